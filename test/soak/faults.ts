/**
 * The soak's faults in Azure and the e-mail service: each kind at its own rate, drawn from the
 * run's seed, scripted on the local services (their fault scripts answer the next matching
 * requests), and counted where they hit. Table Storage faults and process deaths are injected at
 * the wire instead (wire-faults.ts).
 */
import type { LocalAzure, ScriptedFault } from '../azure-server/index.js';
import type { CommunicationEmailService, EmailFault } from '../azure-server/services/communication-email.js';
import type { SoakRandom } from './random.js';

/** Per timer slot (a cycle) unless said otherwise. */
export interface FaultRates {
  resourceGraphThrottle: number;
  resourceGraphServerError: number;
  /** A 403, 404, 409, 5xx, dropped connection or non-JSON body on one subscription's contact reads. */
  contactsReadError: number;
  /** A contact read that does not answer within the request time limit. */
  contactsTimeout: number;
  /** Per Table request. */
  tableUnavailable: number;
  tableConcurrentWriter: number;
  tableDropMidBatch: number;
  /** An outage of the e-mail service starts (1 to 8 slots of 429/5xx/dropped connections). */
  mailOutage: number;
  /** A dropped connection after the e-mail service accepted a message. */
  mailDropAfterAccept: number;
  /** Per invocation: the instance dies at one of its requests. */
  processKill: number;
  /** Per Event Grid delivery: delivered twice. */
  eventDuplicate: number;
  /** Two timer invocations at once, on two instances. */
  concurrentTimers: number;
  /** Per conditional write of a subscription's record: its contact changes and another instance evaluates it first. */
  eventDuringWrite: number;
}

export const DEFAULT_FAULT_RATES: FaultRates = {
  resourceGraphThrottle: 0.03,
  resourceGraphServerError: 0.02,
  contactsReadError: 0.15,
  contactsTimeout: 0.01,
  tableUnavailable: 0.0005,
  tableConcurrentWriter: 0.001,
  tableDropMidBatch: 0.002,
  mailOutage: 0.01,
  mailDropAfterAccept: 0.02,
  processKill: 0.02,
  eventDuplicate: 0.1,
  concurrentTimers: 0.02,
  eventDuringWrite: 0.05,
};

export type FaultKind =
  | 'resource-graph 429 with quota headers'
  | 'resource-graph 429'
  | 'resource-graph 5xx'
  | 'security-contacts 403'
  | 'security-contacts 404'
  | 'security-contacts 409'
  | 'security-contacts 5xx'
  | 'security-contacts timeout'
  | 'security-contacts dropped connection'
  | 'security-contacts not JSON'
  | 'table 503'
  | 'table 412 concurrent writer'
  | 'table dropped mid-batch'
  | 'e-mail 429 Retry-After'
  | 'e-mail 5xx'
  | 'e-mail dropped before acceptance'
  | 'e-mail dropped after acceptance'
  | 'process killed'
  | 'event duplicated'
  | 'event delayed/reordered'
  | 'event redelivered after failure'
  | 'timers at once'
  | 'event racing a write'
  | 'clock skew';

/** A request time limit of the soak's ARM clients, and how long a "timeout" fault holds an answer. */
export const ARM_REQUEST_TIMEOUT_MS = 250;
const TIMEOUT_DELAY_MS = 400;

export interface MailOutage {
  until: number;
  /** The wait the service asked for, at most an hour (docs/reference/alerts.md: a longer Retry-After counts as one hour). */
  retryAfterMs: number;
}

export class FaultInjector {
  readonly counts = new Map<FaultKind, number>();
  private scripted: Array<{ kind: FaultKind; fault: ScriptedFault }> = [];
  /** The e-mail faults scripted and not yet counted: the service's own fault objects, and how many sends each was for. */
  private emailScripted: Array<{ kind: FaultKind; fault: { remaining: number }; times: number }> = [];
  /** When a subscription's contact reads met a scripted fault, and its status (0: dropped, 200: not JSON or late). */
  readonly contactFaults = new Map<string, Array<{ at: number; status: number }>>();
  outage: MailOutage | null = null;
  healthySince = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly random: SoakRandom,
    private readonly rates: FaultRates,
    private readonly azure: LocalAzure,
    private readonly mail: CommunicationEmailService,
    /** The simulation's time: when a read met a fault. */
    private readonly now: () => number,
  ) {}

  count(kind: FaultKind, by = 1): void {
    if (by > 0) this.counts.set(kind, (this.counts.get(kind) ?? 0) + by);
  }

  total(): number {
    this.collectHits();
    return [...this.counts.values()].reduce((sum, count) => sum + count, 0);
  }

  /** Scripts this slot's Azure faults; `subscriptions` are the ones a contact fault may name. */
  planSlot(now: number, subscriptions: readonly string[]): void {
    const random = this.random;
    if (random.chance(this.rates.resourceGraphThrottle)) {
      const withQuota = random.chance(0.5);
      this.script(withQuota ? 'resource-graph 429 with quota headers' : 'resource-graph 429', {
        target: 'resource-graph',
        status: 429,
        times: random.between(1, 3),
        ...(withQuota
          ? { headers: { 'x-ms-user-quota-remaining': '0', 'x-ms-user-quota-resets-after': '00:00:00.050' } }
          : { retryAfterSeconds: 0 }),
      });
    }
    if (random.chance(this.rates.resourceGraphServerError)) {
      this.script('resource-graph 5xx', { target: 'resource-graph', status: random.pick([500, 502, 503]), times: random.between(1, 4) });
    }
    if (subscriptions.length > 0) {
      if (random.chance(this.rates.contactsReadError)) {
        const subscriptionId = random.pick(subscriptions);
        const times = random.between(1, 4);
        const which = random.between(0, 6);
        if (which === 0) this.script('security-contacts 403', { target: 'security-contacts', subscriptionId, status: 403, times });
        else if (which === 1) this.script('security-contacts 404', { target: 'security-contacts', subscriptionId, status: 404, times });
        else if (which === 2)
          this.script('security-contacts 409', {
            target: 'security-contacts',
            subscriptionId,
            status: 409,
            times,
            body: {
              error: {
                code: 'MissingSubscriptionRegistration',
                message: 'The subscription is not registered to use namespace Microsoft.Security.',
              },
            },
          });
        else if (which === 3)
          this.script('security-contacts 5xx', { target: 'security-contacts', subscriptionId, status: random.pick([500, 503]), times });
        else if (which === 4)
          this.script('security-contacts dropped connection', { target: 'security-contacts', subscriptionId, dropConnection: true, times });
        else
          this.script('security-contacts not JSON', {
            target: 'security-contacts',
            subscriptionId,
            status: 200,
            body: '<html>upstream error</html>',
            times,
          });
      }
      if (random.chance(this.rates.contactsTimeout)) {
        this.script('security-contacts timeout', {
          target: 'security-contacts',
          subscriptionId: random.pick(subscriptions),
          delayMs: TIMEOUT_DELAY_MS,
          status: 200,
          body: { value: [] },
          times: random.between(1, 2),
        });
      }
    }
    this.planMail(now);
  }

  private planMail(now: number): void {
    const random = this.random;
    if (this.outage && now >= this.outage.until) {
      this.collectEmailHits();
      this.mail.faults.clear();
      this.healthySince = this.outage.until + this.outage.retryAfterMs;
      this.outage = null;
    }
    if (!this.outage && random.chance(this.rates.mailOutage)) {
      const slots = random.between(1, 8);
      const which = random.between(0, 2);
      let fault: EmailFault;
      let kind: FaultKind;
      let retryAfterMs = 0;
      if (which === 0) {
        const seconds = random.pick([30, 300, 1800, 7200]);
        retryAfterMs = Math.min(seconds, 3600) * 1000;
        fault = { kind: 'throttle', times: 1_000_000, retryAfterSeconds: seconds };
        kind = 'e-mail 429 Retry-After';
      } else if (which === 1) {
        fault = { kind: 'refuse', times: 1_000_000, status: random.pick([500, 503]), code: 'ServiceUnavailable' };
        kind = 'e-mail 5xx';
      } else {
        fault = { kind: 'drop', times: 1_000_000, when: 'before-accept' };
        kind = 'e-mail dropped before acceptance';
      }
      this.scriptEmail(kind, fault, 1_000_000);
      this.outage = { until: now + slots * 30 * 60_000, retryAfterMs };
    } else if (!this.outage && random.chance(this.rates.mailDropAfterAccept)) {
      this.scriptEmail('e-mail dropped after acceptance', { kind: 'drop', times: 1, when: 'after-accept' }, 1);
    }
  }

  private script(kind: FaultKind, spec: Parameters<LocalAzure['faults']['add']>[0]): void {
    this.scripted.push({ kind, fault: this.azure.faults.add(spec) });
  }

  /** A read the app saw fail (any cause, scripted or the machine's load), at the simulation's time. */
  noteFailedRead(subscriptionId: string, status: number): void {
    const list = this.contactFaults.get(subscriptionId) ?? [];
    list.push({ at: this.now(), status });
    if (list.length > 16) list.shift();
    this.contactFaults.set(subscriptionId, list);
  }

  /**
   * Whether a read of `subscriptionId` may have met a scripted fault between `from` and `to`: such a
   * read is `error` (or, for 409 MissingSubscriptionRegistration, no contact: `noncompliant`).
   */
  faultedBetween(subscriptionId: string, from: number, to: number, status?: number): boolean {
    this.collectHits();
    return (this.contactFaults.get(subscriptionId) ?? []).some(
      (fault) => fault.at >= from && fault.at <= to && (status === undefined || fault.status === status),
    );
  }

  /** Counts the scripted faults' hits so far (noting when a subscription's read met one) and forgets the used-up ones. */
  collectHits(): void {
    const now = this.now();
    const still: typeof this.scripted = [];
    for (const entry of this.scripted) {
      this.count(entry.kind, entry.fault.hits);
      const subscriptionId = entry.fault.subscriptionId;
      if (subscriptionId && entry.fault.hits > 0) {
        const list = this.contactFaults.get(subscriptionId) ?? [];
        list.push({ at: now, status: entry.fault.status ?? 0 });
        if (list.length > 16) list.shift();
        this.contactFaults.set(subscriptionId, list);
      }
      entry.fault.hits = 0;
      if (entry.fault.remaining > 0) still.push(entry);
    }
    this.scripted = still;
  }

  private scriptEmail(kind: FaultKind, fault: EmailFault, times: number): void {
    this.mail.faults.add({ ...fault, times });
    // The service keeps the fault as the last of its list: its `remaining` says how much it was used.
    this.emailScripted.push({ kind, fault: this.mail.faults.pending().at(-1)!, times });
  }

  /** E-mail faults hit: what each scripted fault used up (one no longer listed is used up). */
  private collectEmailHits(): void {
    const pending = new Set<object>(this.mail.faults.pending());
    for (const entry of this.emailScripted) this.count(entry.kind, entry.times - (pending.has(entry.fault) ? entry.fault.remaining : 0));
    this.emailScripted = [];
  }

  /** At the end of every slot: counts and forgets e-mail blips that were used up (outages are counted when they end). */
  settleSlot(): void {
    this.collectHits();
    if (this.outage) return;
    this.collectEmailHits();
  }

  /** True while the e-mail service is down. */
  get mailDown(): boolean {
    return this.outage !== null;
  }
}
