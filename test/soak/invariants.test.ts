/**
 * The soak's invariant checks (invariants.ts), one by one: each kind of violation fires for the
 * wrong input and stays quiet for the right one. The collaborators are the real ones the soak
 * uses: a SoakWorld over the simulated tenant, the state store and the outbox over the in-memory
 * table service. Only what the e-mail service accepted and the scripted faults are plain data.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_RETAINED_SCANS, PRUNED_SCANS_PER_WRITE } from '../../src/adapters/table-storage/scan-reports.js';
import type { NewOutboxMessage, Outbox } from '../../src/alerts/ports.js';
import { openOutbox } from '../../src/compose/alert-delivery.js';
import { alertKey } from '../../src/core/alerts.js';
import type { SubscriptionStatus, VerdictSource } from '../../src/core/model.js';
import { SimulatedTenant } from '../azure-server/index.js';
import type { AcceptedEmail } from '../azure-server/services/communication-email.js';
import { recordTenantRun, verdict } from '../contract/support.js';
import { inMemoryTestTables, type TestTables } from '../support/app.js';
import { contactNamed } from './contacts.js';
import { InvariantChecker, MAX_ROWS_PER_SUBSCRIPTION, type CheckerSettings, type MailHealth } from './invariants.js';
import { SoakRandom } from './random.js';
import { SoakWorld } from './world.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.parse('2027-01-04T00:00:00.000Z');
const PREFIX = 'invariants';
const SETTINGS: CheckerSettings = {
  scanIntervalMs: 30 * MINUTE,
  reminderDays: 7,
  maxIndexLagMs: 0,
  maxSkewMs: 90_000,
  historyRetentionDays: 30,
  scanRunRetentionDays: 7,
};

const iso = (ms: number): string => new Date(ms).toISOString();

interface Fixture {
  tables: TestTables;
  world: SoakWorld;
  store: ReturnType<TestTables['openStore']>;
  outbox: Outbox;
  messages: AcceptedEmail[];
  checker: InvariantChecker;
  /** The simulated time the store stamps its writes with. */
  clock: { now: number };
  mail: MailHealth;
  /** Scripted faults on contact reads: what faultedBetween answers from. */
  faults: Array<{ subscriptionId: string; at: number; status: number }>;
}

async function setUp(): Promise<Fixture> {
  const tables = inMemoryTestTables();
  const clock = { now: T0 };
  const store = tables.openStore({ tablePrefix: PREFIX, clock: () => new Date(clock.now) });
  const outbox = await openOutbox(store);
  await outbox.ensure();
  const world = new SoakWorld(new SimulatedTenant(), new SoakRandom(1), { maxIndexLagMs: 0 });
  const messages: AcceptedEmail[] = [];
  const mail: MailHealth = { healthySince: 0, down: false };
  const faults: Fixture['faults'] = [];
  const faulted = (id: string, from: number, to: number, status?: number): boolean =>
    faults.some((fault) => fault.subscriptionId === id && fault.at >= from && fault.at <= to && (status ?? fault.status) === fault.status);
  const checker = new InvariantChecker(world, store, outbox, messages, SETTINGS, () => mail, faulted);
  return { tables, world, store, outbox, messages, checker, clock, mail, faults };
}

/** A subscription the world has held with this catalogue contact since T0. */
function subscription(f: Fixture, contact: 'compliant-2023' | 'placeholder-email'): string {
  return f.world.addSubscription(T0, { indexed: true, contact: contactNamed(contact) });
}

/** An evaluation read (and written) at `at`, as the Event Grid trigger stores one. */
async function evaluate(
  f: Fixture,
  id: string,
  status: Exclude<SubscriptionStatus, 'exempt'>,
  at: number,
  options: { source?: VerdictSource; evaluatedBy?: string; store?: Fixture['store'] } = {},
): Promise<void> {
  f.clock.now = at;
  const judged = { ...verdict(id, status), source: options.source ?? 'security-contacts-api' };
  await (options.store ?? f.store).recordEvaluation(judged, { evaluatedBy: options.evaluatedBy ?? 'event-1', readAt: new Date(at) });
}

const healthy = (): MailHealth => ({ healthySince: 0, down: false });
const noFaults = (): boolean => false;
/** A checker without store, outbox or mail: the gate needs only the world, the heap nothing. */
const bareChecker = (world: SoakWorld = {} as never): InvariantChecker =>
  new InvariantChecker(world, {} as never, {} as never, [], SETTINGS, healthy, noFaults);

const only = (invariant: number, message: RegExp, subscriptionId?: string) => [
  expect.objectContaining({ invariant, message: expect.stringMatching(message), ...(subscriptionId && { subscriptionId }) }),
];

describe('invariant 1: stored verdicts are true', () => {
  it('flags a record stored compliant from the securityContacts API while that API showed it noncompliant', async () => {
    const f = await setUp();
    const id = subscription(f, 'placeholder-email');
    await evaluate(f, id, 'compliant', T0 + HOUR);
    await f.checker.checkStep(1, T0 + HOUR + MINUTE);
    expect(f.checker.violations).toEqual(only(1, /stored compliant from the securityContacts API .* which showed noncompliant/, id));
    expect(f.checker.violations[0]).toMatchObject({ step: 1, at: iso(T0 + HOUR + MINUTE) });
  });

  it('accepts a compliant record, and a status change with its history, when the API showed them', async () => {
    const f = await setUp();
    const id = subscription(f, 'compliant-2023');
    await evaluate(f, id, 'compliant', T0 + HOUR);
    await f.checker.checkStep(1, T0 + HOUR + MINUTE);
    f.world.setContact(T0 + 2 * HOUR, id, contactNamed('placeholder-email'));
    await evaluate(f, id, 'noncompliant', T0 + 3 * HOUR);
    await f.checker.checkStep(2, T0 + 3 * HOUR + MINUTE);
    expect(f.checker.violations).toEqual([]);
  });

  it('judges a record against the view it was read from: an unparsable API body is error there, not in Resource Graph', async () => {
    const f = await setUp();
    const [fromGraph, fromApi] = [subscription(f, 'compliant-2023'), subscription(f, 'compliant-2023')];
    f.world.setUnreadable(T0 + HOUR, fromGraph, 'not-json');
    f.world.setUnreadable(T0 + HOUR, fromApi, 'not-json');
    await evaluate(f, fromGraph, 'compliant', T0 + 2 * HOUR, { source: 'resource-graph' });
    await evaluate(f, fromApi, 'compliant', T0 + 2 * HOUR, { source: 'security-contacts-api' });
    await f.checker.checkStep(1, T0 + 2 * HOUR + MINUTE);
    expect(f.checker.violations).toEqual(only(1, /stored compliant from the securityContacts API .* which showed error/, fromApi));
  });

  it.each([
    { status: 'error', fault: undefined, flagged: true },
    { status: 'error', fault: 503, flagged: false },
    // A 409 MissingSubscriptionRegistration means no contact; no other fault does.
    { status: 'noncompliant', fault: 503, flagged: true },
    { status: 'noncompliant', fault: 409, flagged: false },
  ] as const)('a stored $status on a compliant contact, its reading meeting fault $fault', async ({ status, fault, flagged }) => {
    const f = await setUp();
    const id = subscription(f, 'compliant-2023');
    // The fault is noted when the invocation ends, a little after the reading.
    if (fault !== undefined) f.faults.push({ subscriptionId: id, at: T0 + HOUR + MINUTE, status: fault });
    await evaluate(f, id, status, T0 + HOUR);
    await f.checker.checkStep(1, T0 + HOUR + 2 * MINUTE);
    expect(f.checker.violations).toEqual(flagged ? only(1, new RegExp(`stored ${status} from the securityContacts API`), id) : []);
  });

  it('flags a record still compliant after a complete scan started after the change', async () => {
    const f = await setUp();
    const id = subscription(f, 'compliant-2023');
    f.clock.now = T0 + HOUR;
    await recordTenantRun(f.store, 'scan-1', [verdict(id, 'compliant')]);
    await f.checker.checkStep(1, T0 + HOUR + MINUTE);
    expect(f.checker.violations).toEqual([]);
    f.world.setContact(T0 + 2 * HOUR, id, contactNamed('placeholder-email'));
    f.clock.now = T0 + 3 * HOUR;
    await recordTenantRun(f.store, 'scan-2', [verdict(id, 'compliant')]);
    await f.checker.checkStep(2, T0 + 3 * HOUR + MINUTE);
    // The complete run vouches for the record's reading at its start, so the reading check fires too.
    expect(f.checker.violations.map((violation) => violation.message)).toEqual([
      expect.stringMatching(/stored compliant from Resource Graph/),
      expect.stringMatching(/still stored compliant .* and a complete scan has run since/),
    ]);
  });
});

describe('invariant 1: the compliance gate', () => {
  it.each([
    { contact: 'placeholder-email', answer: { status: 200, body: { status: 'compliant' } }, flagged: true },
    { contact: 'compliant-2023', answer: { status: 200, body: { status: 'compliant' } }, flagged: false },
    { contact: 'compliant-2023', answer: { status: 200, body: { status: 'exempt' } }, flagged: true },
    // Only a `compliant` (or `exempt`) answer lets a pipeline through: anything else is not judged.
    { contact: 'placeholder-email', answer: { status: 200, body: { status: 'noncompliant' } }, flagged: false },
    { contact: 'placeholder-email', answer: { status: 503, body: { status: 'compliant' } }, flagged: false },
  ] as const)('$contact, answered $answer.status $answer.body.status', ({ contact, answer, flagged }) => {
    const world = new SoakWorld(new SimulatedTenant(), new SoakRandom(1), { maxIndexLagMs: 0 });
    const id = world.addSubscription(T0, { indexed: true, contact: contactNamed(contact) });
    const checker = bareChecker(world);
    checker.checkGate(3, T0 + HOUR, id, answer);
    expect(checker.figures.gateAnswers).toBe(1);
    expect(checker.violations).toEqual(flagged ? only(1, /compliance gate answered/, id) : []);
  });
});

describe('invariant 3: records and their history', () => {
  it('flags a history that ends at another time than the record says its status began', async () => {
    const f = await setUp();
    const id = subscription(f, 'compliant-2023');
    await evaluate(f, id, 'compliant', T0 + HOUR);
    // The store lets a read-modify-write move statusSince (only the status is guarded): nothing writes history for it.
    await f.store.updateSubscription(id, (record) => ({ ...record, statusSince: iso(T0 + 2 * HOUR) }));
    await f.checker.checkStep(1, T0 + 2 * HOUR);
    expect(f.checker.violations).toEqual(only(3, /history ends in compliant at .*T01:00.* but the record is compliant since .*T02:00/, id));
  });

  it('flags a history that ends in another status: a writer whose clock is a day behind', async () => {
    const f = await setUp();
    const id = subscription(f, 'compliant-2023');
    const late = f.tables.openStore({ tablePrefix: PREFIX, clock: () => new Date(f.clock.now - DAY) });
    await evaluate(f, id, 'compliant', T0 + 2 * HOUR);
    f.world.setContact(T0 + 3 * HOUR, id, contactNamed('placeholder-email'));
    // A later reading wins, but the late writer dates the change (and its history row) before the first one.
    await evaluate(f, id, 'noncompliant', T0 + 4 * HOUR, { store: late });
    await f.checker.checkStep(1, T0 + 4 * HOUR + MINUTE);
    expect(f.checker.violations).toEqual([
      expect.objectContaining({ invariant: 3, subscriptionId: id, message: expect.stringMatching(/history breaks its chain/) }),
      expect.objectContaining({ invariant: 3, message: expect.stringMatching(/history ends in compliant .* the record is noncompliant/) }),
    ]);
  });

  it('flags a record that goes back to an older reading between two steps', async () => {
    const f = await setUp();
    const id = subscription(f, 'compliant-2023');
    await evaluate(f, id, 'compliant', T0 + 3 * HOUR);
    await f.checker.checkStep(1, T0 + 3 * HOUR + MINUTE);
    expect(f.checker.violations).toEqual([]);
    // recordEvaluation refuses an older reading (the app's protection); a read-modify-write does not look.
    await f.store.updateSubscription(id, (record) => ({ ...record, readAt: iso(T0 + HOUR) }));
    await f.checker.checkStep(2, T0 + 3 * HOUR + 2 * MINUTE);
    expect(f.checker.violations).toEqual(only(3, /went back from the reading of .*T03:00.* to one of .*T01:00/, id));
  });

  it.each([
    { evaluatedBy: 'scan-failed', flagged: true },
    { evaluatedBy: 'event-1', flagged: false },
  ])('a record written by $evaluatedBy when scan-failed failed', async ({ evaluatedBy, flagged }) => {
    const f = await setUp();
    const id = subscription(f, 'compliant-2023');
    f.clock.now = T0 + HOUR;
    await f.store.failRun(await f.store.startRun({ scanId: 'scan-failed', trigger: 'timer' }), new Error('Resource Graph answered 503'));
    await evaluate(f, id, 'compliant', T0 + 2 * HOUR, { evaluatedBy });
    await f.checker.checkStep(1, T0 + 2 * HOUR + MINUTE);
    expect(f.checker.violations).toEqual(flagged ? only(3, /written by run scan-failed, which failed/, id) : []);
  });
});

describe('invariant 2: alerts delivered once, in time, inert', () => {
  /** A noncompliant subscription (since T0) and an alert about it, basis T0 + 1 h. */
  async function alerting(): Promise<{ f: Fixture; id: string; key: string }> {
    const f = await setUp();
    const id = subscription(f, 'placeholder-email');
    return { f, id, key: alertKey(id, 'alert', 'noncompliant', iso(T0 + HOUR)) };
  }

  const SUBJECT = '[contact-watch] 1 Azure subscription without a valid security contact';

  /** Queues a message about `id` covering `keys` in the outbox; returns its Operation-Id. */
  async function queue(f: Fixture, id: string, keys: string[], createdAt: number): Promise<string> {
    const operationId = randomUUID();
    const content = { subject: SUBJECT, html: `<p>${id}</p>`, plainText: id, to: ['secops@fabrikam.com'], subscriptionIds: [id] };
    const batch = {
      operationId,
      batchId: operationId,
      channel: 'email' as const,
      body: '',
      recipientGroup: 0,
      mode: 'digest' as const,
      sequence: 0,
    };
    const message: NewOutboxMessage = { ...content, ...batch, alertKeys: keys, createdAt: iso(createdAt) };
    expect(await f.outbox.createMessage(message)).toBe('created');
    return operationId;
  }

  /** The e-mail service accepts a message at `at`; the checker stamps it then. */
  function accept(f: Fixture, id: string, operationId: string, at: number, overrides: Partial<AcceptedEmail> = {}): void {
    const envelope = { auth: 'bearer' as const, senderAddress: 'DoNotReply@contoso.example', cc: [], bcc: [], replyTo: [], headers: {} };
    const content = { subject: SUBJECT, html: `<p>${id}</p>`, plainText: id, to: [{ address: 'secops@fabrikam.com' }] };
    f.messages.push({ ...envelope, ...content, operationId, receivedAt: iso(at), status: 'Succeeded', ...overrides });
    f.checker.noteMail(at);
  }

  it('accepts one delivery of a message of the outbox, and counts its delay', async () => {
    const { f, id, key } = await alerting();
    accept(f, id, await queue(f, id, [key], T0 + 2 * HOUR), T0 + 2 * HOUR + MINUTE);
    await f.checker.checkStep(1, T0 + 2 * HOUR + 2 * MINUTE);
    expect(f.checker.violations).toEqual([]);
    expect(f.checker.figures).toMatchObject({ emailsSent: 1, duplicates: 0, delaysAfterChangeMs: [HOUR + MINUTE] });
  });

  it('flags an accepted message that is no message of the outbox', async () => {
    const { f, id } = await alerting();
    accept(f, id, randomUUID(), T0 + 2 * HOUR);
    await f.checker.checkStep(1, T0 + 2 * HOUR + MINUTE);
    expect(f.checker.violations).toEqual(only(2, /which is no message of the outbox/));
    expect(f.checker.figures.duplicates).toBe(1);
  });

  it('flags one alert key delivered by two accepted messages', async () => {
    const { f, id, key } = await alerting();
    const [first, second] = [await queue(f, id, [key], T0 + 2 * HOUR), await queue(f, id, [key], T0 + 2 * HOUR)];
    accept(f, id, first, T0 + 2 * HOUR + MINUTE);
    accept(f, id, second, T0 + 2 * HOUR + 2 * MINUTE);
    await f.checker.checkStep(1, T0 + 2 * HOUR + 3 * MINUTE);
    expect(f.checker.violations).toEqual(only(2, new RegExp(`alert .* delivered again \\(operations ${first}, ${second}\\)`), id));
    expect(f.checker.figures.duplicates).toBe(1);
  });

  it.each([
    { what: 'CR/LF in the subject', email: () => ({ subject: 'contact-watch\r\nBcc: x@evil.example' }), message: /subject holds CR\/LF/ },
    { what: 'a bidi control in the html', email: (id: string) => ({ html: `<p>${id} \u202Egnp</p>` }), message: /html .* bidirectional/ },
    { what: 'live HTML', email: (id: string) => ({ html: `<p>${id}</p><script>alert(1)</script>` }), message: /carries live HTML/ },
    { what: 'a message not naming its subscription', email: () => ({ html: '<p>one subscription</p>' }), message: /does not name it/ },
  ])('flags $what', async ({ email, message }) => {
    const { f, id, key } = await alerting();
    accept(f, id, await queue(f, id, [key], T0 + 2 * HOUR), T0 + 2 * HOUR + MINUTE, email(id));
    await f.checker.checkStep(1, T0 + 2 * HOUR + 2 * MINUTE);
    expect(f.checker.violations).toEqual(only(2, message));
  });

  it.each([
    { days: 1, flagged: true },
    { days: 7, flagged: false },
  ])('a reminder queued $days days after the alert it follows (reminders every 7 days)', async ({ days, flagged }) => {
    const after = days * DAY;
    const { f, id } = await alerting();
    const basis = T0 + HOUR;
    const reminder = alertKey(id, 'reminder', 'noncompliant', iso(basis));
    accept(f, id, await queue(f, id, [reminder], basis + after), basis + after + MINUTE);
    await f.checker.checkStep(1, basis + after + 2 * MINUTE);
    expect(f.checker.violations).toEqual(flagged ? only(2, /a reminder queued 1440 min after the alert it follows/, id) : []);
  });

  it('flags an alert about a subscription that was compliant all along', async () => {
    const f = await setUp();
    const id = subscription(f, 'compliant-2023');
    const key = alertKey(id, 'alert', 'noncompliant', iso(T0 + HOUR));
    accept(f, id, await queue(f, id, [key], T0 + 2 * HOUR), T0 + 2 * HOUR + MINUTE);
    await f.checker.checkStep(1, T0 + 2 * HOUR + 2 * MINUTE);
    expect(f.checker.violations).toEqual(only(2, /while it was compliant all along/, id));
  });

  it('flags a queued message the service has not accepted one scan interval (and its allowances) later, unless mail is down', async () => {
    const { f, id, key } = await alerting();
    const operationId = await queue(f, id, [key], T0 + 2 * HOUR);
    await f.checker.checkStep(1, T0 + 2 * HOUR + 30 * MINUTE);
    f.mail.down = true;
    await f.checker.checkStep(2, T0 + 3 * HOUR);
    expect(f.checker.violations).toEqual([]);
    f.mail.down = false;
    await f.checker.checkStep(3, T0 + 3 * HOUR);
    expect(f.checker.violations).toEqual(only(2, new RegExp(`message ${operationId} \\(pending, .*\\) was not accepted .* in time`), id));
  });

  it('flags an alert a record owes that no message covers one scan interval (and its allowances) later', async () => {
    const f = await setUp();
    const id = subscription(f, 'placeholder-email');
    await evaluate(f, id, 'noncompliant', T0 + HOUR);
    await f.checker.checkStep(1, T0 + HOUR + MINUTE);
    await f.checker.checkStep(2, T0 + HOUR + 30 * MINUTE);
    expect(f.checker.violations).toEqual([]);
    await f.checker.checkStep(3, T0 + 2 * HOUR);
    expect(f.checker.violations).toEqual(only(2, /alert .*\|alert\|noncompliant\|.* owed since .* is still not delivered/, id));
  });
});

describe('invariant 4: storage stays bounded', () => {
  it.each([
    { rows: MAX_ROWS_PER_SUBSCRIPTION, flagged: false },
    { rows: MAX_ROWS_PER_SUBSCRIPTION + 1, flagged: true },
  ])('$rows rows for one subscription', async ({ rows, flagged }) => {
    const f = await setUp();
    const id = subscription(f, 'compliant-2023');
    await evaluate(f, id, 'compliant', T0 + HOUR);
    // checkStorage judges ages against the time of the last checkStep.
    await f.checker.checkStep(1, T0 + HOUR + MINUTE);
    await f.checker.checkStorage({ perSubscription: new Map([[id, rows]]), storedScans: DEFAULT_RETAINED_SCANS });
    expect(f.checker.violations).toEqual(flagged ? only(4, new RegExp(`${rows} rows stored for one subscription`), id) : []);
  });

  it('flags more scan reports than retention and one pruning pass allow', async () => {
    const f = await setUp();
    await f.checker.checkStep(1, T0);
    await f.checker.checkStorage({ perSubscription: new Map(), storedScans: DEFAULT_RETAINED_SCANS + PRUNED_SCANS_PER_WRITE + 1 });
    expect(f.checker.violations).toEqual(only(4, /scans' reports are stored/));
  });
});

describe('invariant 5: memory stays flat', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  /** A checker sampling `count` heaps (one per 25 steps) of the sizes `bytesAt(step)` reports, with gc stubbed in. */
  function sampled(count: number, bytesAt: (step: number) => number): InvariantChecker {
    const checker = bareChecker();
    let step = 0;
    vi.stubGlobal('gc', () => undefined);
    const usage = { rss: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
    vi.spyOn(process, 'memoryUsage').mockImplementation(() => ({ ...usage, heapUsed: bytesAt(step) }));
    for (let sample = 1; sample <= count; sample += 1) checker.sampleHeap((step = sample * 25));
    return checker;
  }

  it('samples nothing and judges nothing without an exposed gc', () => {
    const checker = bareChecker();
    vi.stubGlobal('gc', undefined);
    for (let step = 25; step <= 1_000; step += 25) checker.sampleHeap(step);
    expect(checker.heapTrend()).toEqual({ bytesPerThousandSteps: 0, flat: true, samples: 0, judged: false });
  });

  it('does not judge a trend from too few samples, however steep', () => {
    const trend = sampled(20, (step) => step * 10_000_000).heapTrend();
    expect(trend).toMatchObject({ samples: 10, judged: false, flat: true });
  });

  it('flags a heap that grows over the second half, and not one that stays flat', () => {
    const growing = sampled(40, (step) => 100 * 1048576 + step * 100 * 1024);
    expect(growing.heapTrend()).toMatchObject({ samples: 20, judged: true, flat: false, bytesPerThousandSteps: 100 * 1024 * 1000 });
    growing.finishMemory(1_000, T0);
    expect(growing.violations).toEqual(only(5, /the heap grows by 97\.7 MB per 1,000 steps/));

    const flat = sampled(40, (step) => 100 * 1048576 + (step % 50) * 1024);
    expect(flat.heapTrend()).toMatchObject({ judged: true, flat: true });
    flat.finishMemory(1_000, T0);
    expect(flat.violations).toEqual([]);
  });
});
