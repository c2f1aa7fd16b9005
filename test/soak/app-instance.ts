/**
 * One instance of the Functions app in the soak: the real handlers over the real adapters, with
 * its own clock (an instance's clock may run ahead or behind) and its own life, which the soak
 * may end at any request (wire-faults.ts). When it dies, the soak starts a new instance over the
 * same storage, as the platform does: the new one knows only what was stored.
 */
import azureFunctions, { type HttpResponseInit, type InvocationContext, type Timer } from '@azure/functions';
import type { AdditionalPolicyConfig } from '@azure/core-client';
import { openScanLease } from '../../src/adapters/table-storage/scan-lease.js';
import { createComplianceHandler } from '../../src/app/handlers/compliance.js';
import { createContactEventHandler } from '../../src/app/handlers/contact-events.js';
import { createScanResultHandler } from '../../src/app/handlers/scan-result.js';
import { createScanTimerHandler } from '../../src/app/handlers/scan-timer.js';
import { createScansHandler } from '../../src/app/handlers/scans.js';
import { FUNCTION_NAMES } from '../../src/functions/function-names.js';
import type { LocalAzure } from '../azure-server/index.js';
import type { CommunicationEmailService } from '../azure-server/services/communication-email.js';
import { testAppDependencies, type TestTables } from '../support/app.js';
import { ProcessLife } from './wire-faults.js';

export interface InstanceWiring {
  azure: LocalAzure;
  mail: CommunicationEmailService;
  tables: TestTables;
  tablePrefix: string;
  env: Record<string, string>;
  /** The simulation's time (epoch ms). */
  now: () => number;
  /** Policies every instance's Table requests pass (faults, a broken-build variant). */
  tablePolicies: AdditionalPolicyConfig[];
  /** Policies every instance's ARM requests pass (noting failed reads). */
  armPolicies: AdditionalPolicyConfig[];
  /** Policies every instance's e-mail requests pass (a broken-build variant). */
  emailPolicies: AdditionalPolicyConfig[];
  armRequestTimeoutMs: number;
}

const TIMER: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

export class AppInstance {
  readonly life = new ProcessLife();
  private invocations = 0;
  private readonly deps;
  private readonly handlers;

  constructor(
    readonly name: string,
    /** How far this instance's clock is off the simulation's (ms). */
    readonly skewMs: number,
    wiring: InstanceWiring,
  ) {
    const clock = (): Date => new Date(wiring.now() + skewMs);
    const life = this.life.policy;
    this.deps = testAppDependencies({
      azure: wiring.azure,
      mail: wiring.mail,
      tables: wiring.tables,
      tablePrefix: wiring.tablePrefix,
      clock,
      env: wiring.env,
      storePolicies: [life, ...wiring.tablePolicies],
      storeRetry: { maxRetries: 2, retryDelayInMs: 2, maxRetryDelayInMs: 8 },
      armPolicies: [life, ...wiring.armPolicies],
      armRequestTimeoutMs: wiring.armRequestTimeoutMs,
      sender: {
        clientOptions: { additionalPolicies: [life, ...wiring.emailPolicies] },
        retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
        pollIntervalMs: 5,
        maxPollWaitMs: 200,
      },
    });
    this.deps.lease = openScanLease(this.deps.store.connection, { clock });
    this.handlers = {
      timer: createScanTimerHandler(this.deps),
      event: createContactEventHandler(this.deps),
      compliance: createComplianceHandler(this.deps, { readAllowanceMs: 5_000 }),
      scans: createScansHandler(this.deps, { answerWithinMs: 0 }),
      scanResult: createScanResultHandler(this.deps),
    };
  }

  private context(functionName: string): InvocationContext {
    this.invocations += 1;
    // The soak reads no log lines; an instance that lives for months must not keep them.
    this.deps.lines.length = 0;
    return new azureFunctions.InvocationContext({ invocationId: `${this.name}-${this.invocations}`, functionName });
  }

  /** The timer's run; a failed run is what the host records as a failed invocation. */
  async runTimer(): Promise<'ok' | 'failed'> {
    try {
      await this.handlers.timer(TIMER, this.context(FUNCTION_NAMES.scanTimer));
      return 'ok';
    } catch {
      return 'failed';
    }
  }

  /** One Event Grid delivery: 'retry' when the handler threw (Event Grid delivers it again later). */
  async deliverEvent(event: unknown): Promise<'ok' | 'retry'> {
    try {
      await this.handlers.event(event, this.context(FUNCTION_NAMES.contactEvents));
      return 'ok';
    } catch {
      return 'retry';
    }
  }

  async askCompliance(subscriptionId: string): Promise<{ status: number; body: any }> {
    const request = new azureFunctions.HttpRequest({
      method: 'GET',
      url: `https://contact-watch.example.net/api/subscriptions/${subscriptionId}/compliance`,
      params: { subscriptionId },
    });
    const response = await this.handlers.compliance(request, this.context(FUNCTION_NAMES.compliance));
    return { status: response.status ?? 200, body: parse(response) };
  }

  /** POST /api/scans, then GET /api/scans/{scanId} until the scan has ended (or this instance died); the report, when it has one. */
  async requestScan(): Promise<{ status: number; outcome?: number; report?: unknown }> {
    const post = new azureFunctions.HttpRequest({ method: 'POST', url: 'https://contact-watch.example.net/api/scans' });
    const response = await this.handlers.scans(post, this.context(FUNCTION_NAMES.scans));
    const status = response.status ?? 200;
    const scanId = parse(response)?.scan?.id as string | undefined;
    if (status === 200) return { status, report: parse(response) };
    if (status !== 202 || !scanId) return { status };
    for (let poll = 0; poll < 2_000 && !this.life.killed; poll += 1) {
      const get = new azureFunctions.HttpRequest({
        method: 'GET',
        url: `https://contact-watch.example.net/api/scans/${scanId}`,
        params: { scanId },
      });
      const answer = await this.handlers.scanResult(get, this.context(FUNCTION_NAMES.scanResult));
      if (answer.status !== 202) return { status, outcome: answer.status ?? 200, ...(answer.status === 200 && { report: parse(answer) }) };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { status };
  }
}

function parse(response: HttpResponseInit): any {
  if (typeof response.body !== 'string') return undefined;
  try {
    return JSON.parse(response.body);
  } catch {
    return undefined;
  }
}
