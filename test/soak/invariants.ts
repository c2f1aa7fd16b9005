/**
 * The invariants the soak checks after every step, against the world's truth (world.ts), what
 * the app stored (read through a store of its own, without faults) and what the local e-mail
 * service accepted. Each violation names the step, the simulated time and the subscription, so
 * that `--seed` with the same options replays it.
 *
 * 1. Stored verdicts are true: every stored status is what the view it was judged from
 *    (securityContacts API or Resource Graph, per `source`) showed at its reading, or what a fault
 *    that reading met explains; a record does not stay `compliant` once a complete scan has
 *    started after the change. Nothing unreadable is ever `compliant` (the API view of an
 *    unreadable subscription is `error`). The gate and the reports of POST /api/scans answer
 *    `compliant` only when it is.
 * 2. Every alert is delivered exactly once per occurrence: no two accepted messages cover one
 *    occurrence key; every accepted message is a message of the outbox (its Operation-Id reused);
 *    a reminder is queued no sooner than the reminder interval after the alert it follows; an
 *    owed alert (or a queued message) reaches the service within one scan interval after it is
 *    owed or after the service recovered with its Retry-After (longer where an instance died
 *    holding a lease); nothing about a subscription that was compliant, exempt, skipped or gone
 *    all along; every message inert (no CR/LF in the subject, no bidi controls, no live HTML).
 * 3. No record goes back to an older reading, a failed run leaves no record of its own, and each
 *    subscription's history is one chain of transitions in time order ending in its status.
 * 4. Storage stays bounded: no history row, departed record or scan run outlives its retention
 *    (plus the day pruning may take), and the rows per subscription stay under a fixed bound.
 * 5. Memory stays flat: the heap after collection shows no growth trend over the second half.
 */
import type { AcceptedEmail } from '../azure-server/services/communication-email.js';
import type { Outbox } from '../../src/alerts/ports.js';
import type { SubscriptionRecord } from '../../src/core/state-model.js';
import type { StateStore } from '../../src/scan/ports.js';
import { DEFAULT_RETAINED_SCANS, PRUNED_SCANS_PER_WRITE } from '../../src/adapters/table-storage/scan-reports.js';
import { DELIVERED_RETENTION_DAYS } from '../../src/alerts/outbox-admin.js';
import { SCAN_LEASE_TTL_MS } from '../../src/app/scan-job.js';
import type { SoakWorld, TruthStatus } from './world.js';

export interface Violation {
  invariant: 1 | 2 | 3 | 4 | 5;
  step: number;
  at: string;
  subscriptionId?: string;
  message: string;
}

export interface CheckerSettings {
  scanIntervalMs: number;
  reminderDays: number;
  maxIndexLagMs: number;
  /** The most an instance's clock is off (ms). */
  maxSkewMs: number;
  historyRetentionDays: number;
  scanRunRetentionDays: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
/** How near a reading a fault it met is noted: the note is taken when the invocation ends. */
const FAULT_WINDOW = 2 * MINUTE;
/** Pruning runs after a scan that gets through: when one fails or an instance dies holding the lease, the next. */
const PRUNING_SLACK_MS = 2 * 60 * MINUTE;
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;
/** Any GUID in a text (subscription and operation ids). */
export const GUID_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** Rows one subscription may hold: its record plus history rows (bounded by transitions within the retention). */
export const MAX_ROWS_PER_SUBSCRIPTION = 100;
/** Heap samples (one per 25 steps) the second half needs before its trend is judged. */
const MIN_HEAP_SAMPLES = 12;

interface Delivery {
  operationId: string;
  at: number;
}

interface OwedAlert {
  since: number;
}

export interface MailHealth {
  /** When the e-mail service last recovered (end of its last outage, plus the wait it asked for). */
  healthySince: number;
  /** True while an outage lasts. */
  down: boolean;
}

export class InvariantChecker {
  readonly violations: Violation[] = [];
  readonly figures = {
    emailsSent: 0,
    duplicates: 0,
    /** Alerts owed while the e-mail service was down: how long after it recovered (its Retry-After included) each arrived. */
    delaysAfterRecoveryMs: [] as number[],
    /** Every first alert: how long after the subscription entered its status it arrived. */
    delaysAfterChangeMs: [] as number[],
    gateAnswers: 0,
  };
  private previous = new Map<string, SubscriptionRecord>();
  private readonly deliveriesByKey = new Map<string, Delivery[]>();
  private readonly owed = new Map<string, OwedAlert>();
  /** Operation ids the e-mail service accepted, with when (simulated). */
  private readonly accepted = new Map<string, number>();
  private readonly overdue = new Set<string>();
  private unresolved: Array<{ email: AcceptedEmail; at: number }> = [];
  private processedMessages = 0;
  /** Start times of scans that listed the whole tenant and read every subscription. */
  private lastCompleteScanStart = Number.NEGATIVE_INFINITY;
  private readonly failedRuns = new Set<string>();
  private readonly seenRuns = new Set<string>();
  private heap: Array<{ step: number; bytes: number }> = [];
  private readonly kills: Array<{ at: number; leases: boolean }> = [];
  private step = 0;
  private now = 0;

  constructor(
    private readonly world: SoakWorld,
    private readonly observer: StateStore,
    private readonly outbox: Outbox,
    private readonly messages: AcceptedEmail[],
    private readonly settings: CheckerSettings,
    private readonly mailHealth: () => MailHealth,
    /** Whether a fault was scripted on the subscription's contact reads in [from, to] (of that status, if given). */
    private readonly faultedBetween: (subscriptionId: string, from: number, to: number, status?: number) => boolean,
  ) {}

  private fail(invariant: Violation['invariant'], message: string, subscriptionId?: string): void {
    this.violations.push({
      invariant,
      step: this.step,
      at: new Date(this.now).toISOString(),
      message,
      ...(subscriptionId && { subscriptionId }),
    });
  }

  /** After every action: stamps the messages the service accepted with the simulated time. */
  noteMail(now: number): void {
    for (; this.processedMessages < this.messages.length; this.processedMessages += 1) {
      this.unresolved.push({ email: this.messages[this.processedMessages]!, at: now });
    }
  }

  /** The service's list was emptied (after noteMail): new messages start at its beginning again. */
  messagesForgotten(): void {
    this.processedMessages = 0;
  }

  /** The compliance gate's answer, checked at once: `compliant` only when the API shows it. */
  checkGate(step: number, now: number, subscriptionId: string, answer: { status: number; body: any }): void {
    this.step = step;
    this.now = now;
    this.figures.gateAnswers += 1;
    const answered = answer.body?.status;
    if (answer.status !== 200 || (answered !== 'compliant' && answered !== 'exempt')) return;
    const truths = this.world.truthsDuring(
      subscriptionId.toLowerCase(),
      now - this.settings.maxSkewMs,
      now + this.settings.maxSkewMs,
      'api',
    );
    if (!truths.has(answered)) {
      this.fail(
        1,
        `the compliance gate answered ${answered} while the securityContacts API showed ${[...truths].join('/')}`,
        subscriptionId,
      );
    }
  }

  /** A report answered by GET /api/scans/{scanId}: what it calls compliant was so in the view it was read from. */
  checkReport(step: number, now: number, startedAt: number, report: any): void {
    this.step = step;
    this.now = now;
    const skew = this.settings.maxSkewMs;
    for (const verdict of Array.isArray(report?.subscriptions) ? report.subscriptions : []) {
      if (verdict?.status !== 'compliant' || typeof verdict.subscriptionId !== 'string') continue;
      const view = verdict.source === 'resource-graph' ? 'index' : 'api';
      const seen = this.world.truthsDuring(verdict.subscriptionId.toLowerCase(), startedAt - skew, now + skew, view);
      if (!seen.has('compliant')) {
        this.fail(1, `POST /api/scans reported it compliant while ${viewName(view)} showed ${[...seen].join('/')}`, verdict.subscriptionId);
      }
    }
  }

  /** A record read between steps (after a race): later checks compare against it. */
  observe(record: SubscriptionRecord): void {
    const before = this.previous.get(record.subscriptionId);
    if (!before || Date.parse(record.readAt) >= Date.parse(before.readAt)) this.previous.set(record.subscriptionId, record);
  }

  async checkStep(step: number, now: number): Promise<void> {
    this.step = step;
    this.now = now;
    await this.checkRuns();
    const records = await this.observer.loadSubscriptions();
    const changed: SubscriptionRecord[] = [];
    for (const record of records) {
      this.checkVerdict(record);
      const before = this.previous.get(record.subscriptionId);
      if (before && Date.parse(record.readAt) < Date.parse(before.readAt)) {
        this.fail(3, `its record went back from the reading of ${before.readAt} to one of ${record.readAt}`, record.subscriptionId);
      }
      if (this.failedRuns.has(record.lastEvaluatedBy)) {
        this.fail(3, `its record was written by run ${record.lastEvaluatedBy}, which failed`, record.subscriptionId);
      }
      if (!before || before.status !== record.status || before.statusSince !== record.statusSince) changed.push(record);
    }
    this.previous = new Map(records.map((record) => [record.subscriptionId, record]));
    for (const record of changed) await this.checkHistory(record);
    await this.checkMail();
    await this.checkOwed(records);
    this.prune();
  }

  private async checkRuns(): Promise<void> {
    for (const run of await this.observer.listScanRuns(200)) {
      if (run.outcome === 'running') continue;
      if (this.seenRuns.has(run.scanId)) continue;
      this.seenRuns.add(run.scanId);
      if (run.outcome === 'failed') this.failedRuns.add(run.scanId);
      if (run.complete && run.outcome !== 'failed') {
        this.lastCompleteScanStart = Math.max(this.lastCompleteScanStart, Date.parse(run.startedAt) - this.settings.maxSkewMs);
      }
    }
  }

  private checkVerdict(record: SubscriptionRecord): void {
    const id = record.subscriptionId;
    const readAt = Date.parse(record.readAt);
    const view = record.source === 'resource-graph' ? 'index' : 'api';
    const skew = this.settings.maxSkewMs;
    const seen = this.world.truthsDuring(id, readAt - skew, readAt + skew, view);
    const faulted = (status?: number) => this.faultedBetween(id, readAt - skew, readAt + skew + FAULT_WINDOW, status);
    // Every stored status is what the view it was read from showed at its reading, or what a fault
    // that reading met explains: any fault makes a reading `error`, a 409 MissingSubscriptionRegistration
    // means no contact (`noncompliant`).
    const explained =
      seen.has(record.status) ||
      (record.status === 'error' && faulted()) ||
      (record.status === 'noncompliant' && faulted(409)) ||
      // A subscription that left the tenant is `gone` once a run listed the whole tenant without it.
      (record.status === 'gone' && !this.world.exists(id));
    if (!explained) {
      this.fail(1, `stored ${record.status} from ${viewName(view)} at ${record.readAt}, which showed ${[...seen].join('/')}`, id);
    }
    if (record.status !== 'compliant') return;
    // Stale is allowed until a complete scan has started after the view it was read from changed
    // (one scan interval, or longer while no scan can complete).
    const truth = this.world.truthAt(id, this.now, view);
    if (truth === 'compliant' || truth === 'gone') return;
    const changedAt = this.world.truthSince(id, this.now, view);
    if (this.lastCompleteScanStart > changedAt + skew) {
      this.fail(
        1,
        `still stored compliant (read ${record.readAt} from ${viewName(view)}) while that has shown ${truth} since ${iso(changedAt)}, and a complete scan has run since`,
        id,
      );
    }
  }

  private async checkHistory(record: SubscriptionRecord): Promise<void> {
    const history = await this.observer.history(record.subscriptionId);
    let previousTo: string | null | undefined;
    let previousAt = Number.NEGATIVE_INFINITY;
    for (const [index, change] of history.entries()) {
      const at = Date.parse(change.at);
      if (at < previousAt) this.fail(3, `history out of order: ${change.at} after ${iso(previousAt)}`, record.subscriptionId);
      if (index > 0 && change.from !== previousTo) {
        this.fail(
          3,
          `history breaks its chain: ${previousTo} then a change from ${change.from} to ${change.to} at ${change.at}`,
          record.subscriptionId,
        );
      }
      if (change.from === change.to)
        this.fail(3, `history holds a change from ${change.from} to itself at ${change.at}`, record.subscriptionId);
      previousTo = change.to;
      previousAt = at;
    }
    const last = history.at(-1);
    if (!last) {
      this.fail(3, `no history explains its status ${record.status}`, record.subscriptionId);
    } else if (last.to !== record.status || last.at !== record.statusSince) {
      this.fail(
        3,
        `history ends in ${last.to} at ${last.at} but the record is ${record.status} since ${record.statusSince}`,
        record.subscriptionId,
      );
    }
  }

  private async checkMail(): Promise<void> {
    const batch = this.unresolved;
    this.unresolved = [];
    for (const { email, at } of batch) {
      this.figures.emailsSent += 1;
      this.checkInert(email);
      this.accepted.set(email.operationId.toLowerCase(), at);
      const message = await this.outbox.getMessage(email.operationId.toLowerCase());
      if (!message) {
        this.figures.duplicates += 1;
        this.fail(
          2,
          `the e-mail service accepted operation ${email.operationId}, which is no message of the outbox (an Operation-Id not reused)`,
        );
        continue;
      }
      const mentioned = new Set(((email.html ?? '').match(GUID_PATTERN) ?? []).map((id) => id.toLowerCase()));
      for (const key of message.alertKeys) {
        const [subscriptionId, kind] = key.split('|') as [string, string];
        const deliveries = this.deliveriesByKey.get(key) ?? [];
        deliveries.push({ operationId: email.operationId, at });
        this.deliveriesByKey.set(key, deliveries);
        if (deliveries.length > 1) {
          this.figures.duplicates += 1;
          this.fail(2, `alert ${key} delivered again (operations ${deliveries.map((d) => d.operationId).join(', ')})`, subscriptionId);
        }
        if (kind === 'alert') {
          const basis = Date.parse(key.split('|')[3] ?? '');
          this.figures.delaysAfterChangeMs.push(at - basis);
          const { healthySince } = this.mailHealth();
          if (basis < healthySince && healthySince <= at) this.figures.delaysAfterRecoveryMs.push(at - healthySince);
        }
        this.owed.delete(key);
        if (kind === 'fixed') continue;
        this.checkSpacing(subscriptionId, key, Date.parse(message.createdAt));
        // The key's basis is when the subscription entered the status alerted on (the reading that found it).
        this.checkAlertable(subscriptionId, key.split('|')[2]!, Date.parse(key.split('|')[3] ?? ''), Date.parse(message.createdAt), at);
        if (message.subscriptionIds.length <= 20 && !mentioned.has(subscriptionId)) {
          this.fail(2, `a message about ${subscriptionId} does not name it`, subscriptionId);
        }
      }
    }
  }

  private checkInert(email: AcceptedEmail): void {
    if (/[\r\n]/.test(email.subject)) this.fail(2, `a subject holds CR/LF: ${JSON.stringify(email.subject)}`);
    for (const [part, text] of [
      ['subject', email.subject],
      ['html', email.html ?? ''],
      ['text', email.plainText ?? ''],
    ] as const) {
      if (BIDI.test(text)) this.fail(2, `the ${part} of operation ${email.operationId} holds a bidirectional control character`);
    }
    if (/<script|<b>prod<\/b>/i.test(email.html ?? ''))
      this.fail(2, `operation ${email.operationId} carries live HTML from a display name`);
  }

  /** A reminder is queued no sooner than the reminder interval after the alert it follows (its key's basis). */
  private checkSpacing(subscriptionId: string, key: string, queuedAt: number): void {
    const [, kind, , basis] = key.split('|');
    if (kind !== 'reminder') return;
    const gap = queuedAt - Date.parse(basis ?? '');
    if (!(gap >= this.settings.reminderDays * DAY - 2 * this.settings.maxSkewMs)) {
      this.fail(
        2,
        `a reminder queued ${Math.round(gap / MINUTE)} min after the alert it follows (reminders every ${this.settings.reminderDays} days)`,
        subscriptionId,
      );
    }
  }

  /** A message queued at `queuedAt` about a subscription that was exempt, skipped or gone all along. */
  private checkAlertable(subscriptionId: string, status: string, basis: number, queuedAt: number, deliveredAt: number): void {
    const from = queuedAt - this.settings.scanIntervalMs - this.settings.maxIndexLagMs - this.settings.maxSkewMs;
    // A read that met a fault is rightly `error` (or, after a 409, `noncompliant`): alerting on it is owed.
    const skew = this.settings.maxSkewMs;
    if (status === 'error' && this.faultedBetween(subscriptionId, basis - skew, basis + skew + FAULT_WINDOW)) return;
    if (status === 'noncompliant' && this.faultedBetween(subscriptionId, basis - skew, basis + skew + FAULT_WINDOW, 409)) return;
    const seen = new Set<TruthStatus>([
      ...this.world.truthsDuring(subscriptionId, from, queuedAt + this.settings.maxSkewMs, 'api'),
      ...this.world.truthsDuring(subscriptionId, from, queuedAt + this.settings.maxSkewMs, 'index'),
    ]);
    if (!seen.has('noncompliant') && !seen.has('error')) {
      this.fail(
        2,
        `alerted at ${iso(deliveredAt)} (queued ${iso(queuedAt)}) while it was ${[...seen].join('/')} all along`,
        subscriptionId,
      );
    }
  }

  /**
   * How late after it is owed (or after the e-mail service recovered, its Retry-After included) an
   * alert may arrive: one scan interval (the next timer sends it), plus the ten minutes a claim or
   * a send lease of a process that died holds it, plus the instances' clock skew.
   */
  private allowanceMs(since: number): number {
    const base = this.settings.scanIntervalMs + 2 * MINUTE + 2 * this.settings.maxSkewMs;
    const diedNear = (leases: boolean) =>
      this.kills.some((kill) => kill.leases === leases && kill.at >= since - SCAN_LEASE_TTL_MS && kill.at <= this.now);
    // An instance that died holding the scan lease keeps the timers out until the lease expires;
    // one that died holding an alert's claim or send lease keeps that alert for ten minutes.
    if (diedNear(true)) return base + SCAN_LEASE_TTL_MS + 10 * MINUTE;
    if (diedNear(false)) return base + 10 * MINUTE;
    return base;
  }

  /** An instance died at `at` (simulated time); `heldScanLease`: in a scan (the timer's, or one POST /api/scans started). */
  noteKill(at: number, heldScanLease: boolean): void {
    this.kills.push({ at, leases: heldScanLease });
    if (this.kills.length > 64) this.kills.shift();
  }

  /** Forgets what no later check can need, so that the checker's memory stays flat. */
  private prune(): void {
    const horizon = this.now - (this.settings.reminderDays + 2) * DAY;
    for (const [key, deliveries] of this.deliveriesByKey) if (deliveries.at(-1)!.at < horizon) this.deliveriesByKey.delete(key);
    for (const [operationId, at] of this.accepted) if (at < horizon) this.accepted.delete(operationId);
    if (this.seenRuns.size > 2_000) this.seenRuns.clear();
    if (this.overdue.size > 10_000) this.overdue.clear();
  }

  /** The alert a record owes now, by its occurrence key (core/alerts.ts), or null. */
  private owedKey(record: SubscriptionRecord): string | null {
    if (record.status !== 'noncompliant' && record.status !== 'error') return null;
    const lastAlerted = record.lastAlertedAt ? Date.parse(record.lastAlertedAt) : null;
    if (lastAlerted === null || lastAlerted < Date.parse(record.statusSince)) {
      return `${record.subscriptionId}|alert|${record.status}|${record.statusSince}`;
    }
    const reminderDue = this.settings.reminderDays > 0 && this.now >= lastAlerted + this.settings.reminderDays * DAY;
    return reminderDue ? `${record.subscriptionId}|reminder|${record.status}|${record.lastAlertedAt}` : null;
  }

  private async checkOwed(records: SubscriptionRecord[]): Promise<void> {
    const health = this.mailHealth();
    const current = new Set<string>();
    for (const record of records) {
      const key = this.owedKey(record);
      if (key === null) continue;
      current.add(key);
      if (!this.deliveriesByKey.has(key) && !this.owed.has(key)) this.owed.set(key, { since: this.now });
    }
    // Owed and not yet queued: the record still owes exactly this occurrence when it is due.
    for (const [key, owed] of this.owed) {
      if (!current.has(key)) {
        this.owed.delete(key);
        continue;
      }
      const from = Math.max(owed.since, health.healthySince);
      if (!health.down && this.now > from + this.allowanceMs(from)) {
        this.fail(2, `alert ${key} owed since ${iso(owed.since)} is still not delivered`, key.split('|')[0]);
        this.owed.delete(key);
      }
    }
    // Queued: every message of the outbox is accepted by the service in time, whatever its state says.
    for (const message of await this.outbox.listMessages(['pending', 'accepted', 'failed', 'dead', 'sent'])) {
      const operationId = message.operationId.toLowerCase();
      if (this.accepted.has(operationId) || this.overdue.has(operationId)) continue;
      const queuedAt = Date.parse(message.createdAt);
      // Older than what the checker remembers: it was accepted before (sent) or is already overdue.
      if (queuedAt < this.now - (this.settings.reminderDays + 1) * DAY) continue;
      const from = Math.max(queuedAt, health.healthySince);
      if (health.down || this.now <= from + this.allowanceMs(from)) continue;
      this.overdue.add(operationId);
      this.fail(
        2,
        `message ${operationId} (${message.state}, queued ${message.createdAt}) was not accepted by the e-mail service in time`,
        message.subscriptionIds[0],
      );
    }
  }

  /** Invariant 4, at longer intervals: what outlived its retention, and rows per subscription. */
  async checkStorage(counts: { perSubscription: Map<string, number>; storedScans: number }): Promise<void> {
    if (counts.storedScans > DEFAULT_RETAINED_SCANS + PRUNED_SCANS_PER_WRITE) {
      this.fail(4, `${counts.storedScans} scans' reports are stored (the newest ${DEFAULT_RETAINED_SCANS} are kept)`);
    }
    // Delivered alert e-mails and their claims are kept DELIVERED_RETENTION_DAYS, then pruned after a scan.
    const deliveredCutoff = this.now - (DELIVERED_RETENTION_DAYS + 1) * DAY;
    const stale = (await this.outbox.listMessages(['sent', 'replaced'])).filter(
      (message) => Date.parse(message.createdAt) < deliveredCutoff,
    );
    if (stale.length > 0) this.fail(4, `${stale.length} delivered alert e-mails outlived the ${DELIVERED_RETENTION_DAYS}-day retention`);
    const historyCutoff = this.now - (this.settings.historyRetentionDays + 1) * DAY - PRUNING_SLACK_MS;
    for (const [subscriptionId, rows] of counts.perSubscription) {
      if (rows > MAX_ROWS_PER_SUBSCRIPTION)
        this.fail(4, `${rows} rows stored for one subscription (bound ${MAX_ROWS_PER_SUBSCRIPTION})`, subscriptionId);
    }
    for (const record of this.previous.values()) {
      const history = await this.observer.history(record.subscriptionId);
      // The newest row explains the current status and is kept whatever its age; an older one may
      // go once it has outlived the retention and stopped explaining (the next change came), at
      // the next daily pruning, which a scan that gets through runs.
      const retentionMs = this.settings.historyRetentionDays * DAY;
      for (const [index, change] of history.slice(0, -1).entries()) {
        const deadline = Math.max(Date.parse(change.at) + retentionMs, Date.parse(history[index + 1]!.at)) + DAY + PRUNING_SLACK_MS;
        if (this.now > deadline) {
          this.fail(
            4,
            `a history row of ${change.at} outlived the ${this.settings.historyRetentionDays}-day retention`,
            record.subscriptionId,
          );
          break;
        }
      }
      if (record.status === 'gone' && Date.parse(record.statusSince) < historyCutoff) {
        this.fail(4, `a departed subscription's record of ${record.statusSince} outlived the retention`, record.subscriptionId);
      }
    }
    const runs = await this.observer.listScanRuns(100_000);
    const runCutoff = this.now - (this.settings.scanRunRetentionDays + 1) * DAY - PRUNING_SLACK_MS;
    const old = runs.filter((run) => Date.parse(run.startedAt) < runCutoff);
    if (old.length > 0)
      this.fail(
        4,
        `${old.length} scan runs outlived the ${this.settings.scanRunRetentionDays}-day retention (oldest ${old.at(-1)!.startedAt})`,
      );
  }

  /** Invariant 5: samples the heap after a full collection (only where the process exposes one: `node --expose-gc`). */
  sampleHeap(step: number): void {
    if (typeof globalThis.gc !== 'function') return;
    globalThis.gc();
    this.heap.push({ step, bytes: process.memoryUsage().heapUsed });
  }

  /** The growth trend of the heap over the second half of the run (bytes per 1,000 steps), and whether it is flat. */
  heapTrend(): { bytesPerThousandSteps: number; flat: boolean; samples: number; judged: boolean } {
    const half = this.heap.slice(Math.floor(this.heap.length / 2));
    // Too few samples for a trend (a short run, or no --expose-gc): not judged.
    if (half.length < MIN_HEAP_SAMPLES) return { bytesPerThousandSteps: 0, flat: true, samples: half.length, judged: false };
    const meanX = half.reduce((sum, point) => sum + point.step, 0) / half.length;
    const meanY = half.reduce((sum, point) => sum + point.bytes, 0) / half.length;
    const slope =
      half.reduce((sum, point) => sum + (point.step - meanX) * (point.bytes - meanY), 0) /
      Math.max(
        1,
        half.reduce((sum, point) => sum + (point.step - meanX) ** 2, 0),
      );
    const span = half.at(-1)!.step - half[0]!.step;
    // Flat: over the second half the trend adds less than 10% of the heap (or 8 MB, for small heaps).
    const flat = slope * span < Math.max(8 * 1024 * 1024, 0.1 * meanY);
    return { bytesPerThousandSteps: slope * 1000, flat, samples: half.length, judged: true };
  }

  finishMemory(step: number, now: number): void {
    this.step = step;
    this.now = now;
    const trend = this.heapTrend();
    if (!trend.flat)
      this.fail(5, `the heap grows by ${(trend.bytesPerThousandSteps / 1048576).toFixed(1)} MB per 1,000 steps over the second half`);
  }
}

function viewName(view: 'api' | 'index'): string {
  return view === 'api' ? 'the securityContacts API' : 'Resource Graph';
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
