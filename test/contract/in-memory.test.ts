/**
 * Every contract suite over the in-memory adapters: the Table Storage adapters over the in-memory
 * table service (one service per suite, as each Azurite-backed file has its own Azurite), and the
 * in-memory mail sender. The same suites run against Azurite and the local ACS service from
 * test/integration. One file, so that the SDKs are loaded once for all of them.
 */
import { RestError } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { InMemoryEmailSender } from '../../src/adapters/in-memory/email-sender.js';
import { connectInMemoryTables, InMemoryTableService } from '../../src/adapters/in-memory/tables.js';
import { inMemoryTables } from './backends.js';
import { emailSenderContract } from './email-sender.contract.js';
import { outboxContract } from './outbox.contract.js';
import { scanLeaseContract } from './scan-lease.contract.js';
import { scanReportsContract } from './scan-reports.contract.js';
import { stateConcurrencyContract } from './state-concurrency.contract.js';
import { stateExemptionsContract } from './state-exemptions.contract.js';
import { stateRemediationContract } from './state-remediation.contract.js';
import { stateRunsContract } from './state-runs.contract.js';
import { tableServiceContract } from './tables.contract.js';
import { uniquePrefix } from './support.js';

describe('Table Storage rules, in-memory table service', () => tableServiceContract(inMemoryTables()));
describe('state store runs, in-memory', () => stateRunsContract(inMemoryTables()));
describe('state store concurrency, in-memory', () => stateConcurrencyContract(inMemoryTables()));
describe('state store exemptions and tables, in-memory', () => stateExemptionsContract(inMemoryTables()));
describe('state store writes of the contact, in-memory', () => stateRemediationContract(inMemoryTables()));
describe('scan reports, in-memory', () => scanReportsContract(inMemoryTables()));
describe('alert outbox, in-memory', () => outboxContract(inMemoryTables()));
describe('scan lease, in-memory', () => scanLeaseContract(inMemoryTables()));

describe('mail transport, in-memory sender', () => {
  const senderAddress = 'DoNotReply@contoso-alerts.example.net';
  const sender = new InMemoryEmailSender({ senderAddress });
  emailSenderContract({
    name: 'in-memory sender',
    senderAddress,
    transport: () => sender,
    messages: () => sender.messages,
    sendAttempts: () => sender.sendAttempts,
    throttleNextSend: (retryAfterSeconds) => sender.faults.add({ kind: 'throttle', retryAfterSeconds }),
    refuseNextSend: (status, code) => sender.faults.add({ kind: 'refuse', status, code }),
    failNextDelivery: () => sender.faults.add({ kind: 'fail-delivery' }),
    reset: () => sender.reset(),
  });
});

describe('the in-memory table service, outside what it serves', () => {
  const client = () => connectInMemoryTables(new InMemoryTableService(), { tablePrefix: uniquePrefix() }).table('rows');
  const refusal = async (operation: Promise<unknown>) => {
    const error = await operation.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(RestError);
    return { statusCode: (error as RestError).statusCode, message: (error as RestError).message };
  };

  it('answers a query outside the grammar it implements with 501, naming what it could not read', async () => {
    const rows = await client();
    const listed = async (filter: string) => {
      for await (const row of rows.listEntities({ queryOptions: { filter } })) void row;
    };
    for (const [filter, named] of [
      ["startswith(RowKey, 'state:')", 'cannot read'],
      ["not (status eq 'gone')", 'expected a property name'],
      ["PartitionKey eq guid'3f2504e0-4f89-11d3-9a0c-0305e82c3301'", 'cannot read'],
      ["status eq 'gone' and", 'expected a property name'],
      ['n add 1 eq 2', 'expected eq, ne, gt, ge, lt or le'],
    ]) {
      const { statusCode, message } = await refusal(listed(filter!));
      expect(statusCode, filter).toBe(501);
      expect(message, filter).toContain('NotImplemented');
      expect(message, filter).toContain(named);
    }
  });

  it('answers an operation it does not implement with 501', async () => {
    const rows = await client();
    expect(await refusal(rows.getAccessPolicy())).toMatchObject({ statusCode: 501 });
  });
});
