/** The exemptions table: one row per exempted subscription, all in one partition so that listing them is one query. */
import { odata, type TableClient } from '@azure/data-tables';
import { parseExemption, type ExemptionValidationOptions } from '../../core/exemptions.js';
import type { Exemption } from '../../core/state-model.js';
import type { TableConnection } from './connection.js';
import { EXEMPTION_PARTITION, TABLE_SUFFIXES, decodeExemption, encodeExemption } from './entities.js';
import { bySubscriptionId } from '../../core/subscription-id.js';
import { statusOf } from './table-errors.js';

export class ExemptionRows {
  constructor(
    private readonly connection: TableConnection,
    private readonly clock: () => Date,
  ) {}

  table(): Promise<TableClient> {
    return this.connection.table(TABLE_SUFFIXES.exemptions);
  }

  /** Validates (see core/exemptions.ts) and stores; replaces an earlier exemption of the subscription. */
  async put(request: unknown, options: ExemptionValidationOptions = {}): Promise<Exemption> {
    const exemption = parseExemption(request, this.clock(), options);
    const client = await this.table();
    await client.upsertEntity(encodeExemption(exemption), 'Replace');
    return exemption;
  }

  async get(subscriptionId: string): Promise<Exemption | undefined> {
    const client = await this.table();
    try {
      return decodeExemption(client.tableName, await client.getEntity(EXEMPTION_PARTITION, subscriptionId.toLowerCase()));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** True when there was one. */
  async remove(subscriptionId: string): Promise<boolean> {
    const client = await this.table();
    try {
      await client.deleteEntity(EXEMPTION_PARTITION, subscriptionId.toLowerCase());
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  /** Every exemption, expired ones included, sorted by subscription id. */
  async list(): Promise<Exemption[]> {
    const client = await this.table();
    const filter = odata`PartitionKey eq ${EXEMPTION_PARTITION}`;
    const exemptions: Exemption[] = [];
    for await (const entity of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      exemptions.push(decodeExemption(client.tableName, entity));
    }
    return exemptions.sort(bySubscriptionId);
  }
}
