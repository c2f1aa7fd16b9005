/**
 * The soak: a seeded simulation of months of contact-watch in a living tenant. Each step is one
 * slot of the timer's schedule (30 simulated minutes): the timer fires on one instance (or two at
 * once), and between timers the tenant changes, Event Grid delivers what it announced (late,
 * twice, out of order, again after a failure), a vending pipeline asks the compliance gate, an
 * operator requests a scan or exempts a subscription. Faults are drawn from the seed (faults.ts,
 * wire-faults.ts); after every step the invariants are checked (invariants.ts).
 *
 * Everything is drawn from the seed, so a seed replays the same world, faults and schedule. Two
 * instances running at once interleave as the machine schedules them, so a run with concurrent
 * timers is replayed in its plan, not necessarily in every interleaving.
 */
import { createHash } from 'node:crypto';
import { SimulatedTenant, startLocalAzure } from '../azure-server/index.js';
import { createCommunicationEmailService } from '../azure-server/services/communication-email.js';
import { azuriteTestTables, inMemoryTestTables, TEST_RECIPIENTS, type TestTables } from '../support/app.js';
import { startAzurite } from '../support/azurite.js';
import { securityContactsEvent, subscriptionCreatedEvent } from '../support/events.js';
import { openOutbox } from '../../src/compose/alert-delivery.js';
import { OUTBOX_TABLE_SUFFIX } from '../../src/adapters/table-storage/outbox.js';
import { TABLE_SUFFIXES } from '../../src/adapters/table-storage/entities.js';
import { SCAN_REPORTS_TABLE_SUFFIX } from '../../src/adapters/table-storage/scan-reports.js';
import { AppInstance, type InstanceWiring } from './app-instance.js';
import { contactNamed, pickContact } from './contacts.js';
import { ARM_REQUEST_TIMEOUT_MS, DEFAULT_FAULT_RATES, FaultInjector, type FaultRates } from './faults.js';
import { GUID_PATTERN, InvariantChecker, type Violation } from './invariants.js';
import { SoakRandom } from './random.js';
import { concurrentWriterFor, failedContactReads, freshOperationIds, racingWriter, stripEtagChecks, tableFaults } from './wire-faults.js';
import { SoakWorld, type WorldEvent } from './world.js';

export type BrokenVariant = 'etag-check-removed' | 'operation-id-not-reused';

export interface SoakOptions {
  seed: number;
  /** Timer slots to simulate (17,520 = a year of the default schedule). */
  cycles: number;
  subscriptions: number;
  store: 'in-memory' | 'azurite';
  rates?: Partial<FaultRates>;
  /** Stop early (after a whole step) once this much real time has passed. */
  budgetMs?: number;
  /** A build with a safety check removed, to show the soak notices. */
  variant?: BrokenVariant;
  reminderDays?: number;
  /**
   * The ARM clients' request time limit (default ARM_REQUEST_TIMEOUT_MS). It is real time: on a
   * loaded machine an ordinary answer can outlast a short limit, so a run that must replay
   * exactly sets a long one and no timeout faults.
   */
  armRequestTimeoutMs?: number;
  onProgress?: (progress: { cycle: number; cycles: number; violations: number; elapsedMs: number }) => void;
}

export interface SoakResult {
  seed: number;
  cycles: number;
  plannedCycles: number;
  simulatedDays: number;
  faults: Map<string, number>;
  faultsInjected: number;
  violations: Violation[];
  emailsSent: number;
  duplicates: number;
  /** Alerts owed while the e-mail service was down, counted from its recovery (its Retry-After included). */
  alertDelayAfterRecoveryMinutes: { p50: number; p99: number; count: number };
  /** Every first alert, counted from the moment its subscription entered the status. */
  alertDelayAfterChangeMinutes: { p50: number; p99: number; count: number };
  rowsStored: number;
  tableRows: Record<string, number>;
  peakRssBytes: number;
  /** Null where the heap was not sampled enough to judge (a short run, or no --expose-gc). */
  heapTrendMbPerThousandSteps: number | null;
  elapsedMs: number;
}

const SLOT_MS = 30 * 60_000;
const MINUTE = 60_000;
const DAY = 86_400_000;
const START = Date.parse('2027-01-04T00:00:00.000Z');
const MAX_INDEX_LAG_MS = 5 * MINUTE;
const MAX_SKEW_MS = 90_000;
const HISTORY_RETENTION_DAYS = 30;
const SCAN_RUN_RETENTION_DAYS = 7;
const TABLE_PREFIX = 'soak';

type InvocationKind = 'timer' | 'event' | 'gate' | 'scan';

interface AgendaItem {
  at: number;
  run: () => Promise<void> | void;
  order: number;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  const rates: FaultRates = { ...DEFAULT_FAULT_RATES, ...options.rates };
  const reminderDays = options.reminderDays ?? 7;
  const random = new SoakRandom(options.seed);
  const worldRandom = random.fork(1);
  const faultRandom = random.fork(2);
  const raceRandom = random.fork(3);

  const tenant = new SimulatedTenant();
  const world = new SoakWorld(tenant, worldRandom, { maxIndexLagMs: MAX_INDEX_LAG_MS });
  let now = START;
  for (let index = 0; index < options.subscriptions; index += 1) world.addSubscription(now, { indexed: true });
  for (const id of world.existing().slice(0, Math.ceil(options.subscriptions / 50))) {
    world.setUnreadable(now, id, worldRandom.pick(['forbidden', 'not-found', 'not-json'] as const));
  }

  const mail = createCommunicationEmailService({ accessKey: Buffer.from('soak-access-key').toString('base64'), retryAfterSeconds: 0 });
  const [azure, tables] = await Promise.all([
    startLocalAzure({ tenant, services: [mail], logRequests: false }),
    options.store === 'azurite' ? startAzurite().then(azuriteTestTables) : Promise.resolve(inMemoryTestTables()),
  ]);
  const injector = new FaultInjector(faultRandom, rates, azure, mail, () => now);
  try {
    return await simulate();
  } finally {
    await Promise.all([azure.close(), tables.stop()]);
  }

  async function simulate(): Promise<SoakResult> {
    const env = {
      CONTACT_WATCH_REMINDER_DAYS: String(reminderDays),
      CONTACT_WATCH_HISTORY_RETENTION_DAYS: String(HISTORY_RETENTION_DAYS),
      CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS: String(SCAN_RUN_RETENTION_DAYS),
    };
    const observer = tables.openStore({
      tablePrefix: TABLE_PREFIX,
      clock: () => new Date(now),
      retention: { historyDays: HISTORY_RETENTION_DAYS, scanRunDays: SCAN_RUN_RETENTION_DAYS },
    });
    const writer = concurrentWriterFor(tables.service ?? tables.connectionString);
    // Faults at the wire are drawn from the request itself (the step, its method, its path with ids
    // left out, how many such requests came before in the step, and the draw), not from the order
    // requests happen to reach the pipeline: the app sends many at once, and a seed must replay.
    const seenInStep = new Map<string, number>();
    const drawsOf = new WeakMap<object, { key: string; draws: number }>();
    const wireDraw = (request: { method: string; url: string }): number => {
      let entry = drawsOf.get(request);
      if (!entry) {
        const path = new URL(request.url).pathname.replace(GUID_PATTERN, 'id').replace(/\d{10,}/g, 'n');
        const shape = `${request.method} ${path}`;
        const occurrence = (seenInStep.get(shape) ?? 0) + 1;
        seenInStep.set(shape, occurrence);
        entry = { key: `${options.seed}|${cycle}|${shape}|${occurrence}`, draws: 0 };
        drawsOf.set(request, entry);
      }
      entry.draws += 1;
      return createHash('sha256').update(`${entry.key}|${entry.draws}`).digest().readUIntBE(0, 6) / 2 ** 48;
    };
    const wiring: InstanceWiring = {
      azure,
      mail,
      tables,
      tablePrefix: TABLE_PREFIX,
      env,
      now: () => now,
      tablePolicies: [
        racingWriter({ random: (request) => wireDraw(request), rate: rates.eventDuringWrite, race: (id) => raceWrite(id) }),
        tableFaults({
          random: (request) => wireDraw(request),
          rates: {
            unavailable: rates.tableUnavailable,
            concurrentWriter: rates.tableConcurrentWriter,
            dropMidBatch: rates.tableDropMidBatch,
          },
          writer,
          onFault: (kind: string) =>
            injector.count(
              kind === 'unavailable'
                ? 'table 503'
                : kind === 'concurrentWriter'
                  ? 'table 412 concurrent writer'
                  : 'table dropped mid-batch',
            ),
        }),
        ...(options.variant === 'etag-check-removed' ? [stripEtagChecks()] : []),
      ],
      armPolicies: [failedContactReads((subscriptionId, status) => injector.noteFailedRead(subscriptionId, status))],
      emailPolicies: options.variant === 'operation-id-not-reused' ? [freshOperationIds()] : [],
      armRequestTimeoutMs: options.armRequestTimeoutMs ?? ARM_REQUEST_TIMEOUT_MS,
    };
    let generation = 0;
    const newInstance = (name: string, skewMs: number): AppInstance => {
      if (skewMs !== 0) injector.count('clock skew');
      return new AppInstance(`${name}${(generation += 1)}`, skewMs, wiring);
    };
    // Instance a keeps the simulation's time; each instance b runs ahead or behind by up to MAX_SKEW_MS.
    const skewed = (): number => faultRandom.between(-MAX_SKEW_MS, MAX_SKEW_MS);
    const instances = [newInstance('a', 0), newInstance('b', skewed())];
    // A third instance that handles the events that race another instance's writes.
    const racer = newInstance('r', 0);

    const checker = new InvariantChecker(
      world,
      observer,
      await openOutbox(observer),
      mail.messages,
      {
        scanIntervalMs: SLOT_MS,
        reminderDays,
        maxIndexLagMs: MAX_INDEX_LAG_MS,
        maxSkewMs: MAX_SKEW_MS,
        historyRetentionDays: HISTORY_RETENTION_DAYS,
        scanRunRetentionDays: SCAN_RUN_RETENTION_DAYS,
      },
      () => ({ healthySince: injector.healthySince, down: injector.mailDown }),
      (subscriptionId, from, to, status) => injector.faultedBetween(subscriptionId, from, to, status),
    );

    // Everything due between timers: changes, people's requests and Event Grid deliveries, in time order.
    const agenda: AgendaItem[] = [];
    let order = 0;
    const schedule = (at: number, run: () => Promise<void> | void): void => void agenda.push({ at, run, order: order++ });
    const deliver = (event: unknown, at: number, attempt = 1): void =>
      schedule(at, async () => {
        const outcome = await invoke(faultRandom.between(0, 1), 'event', (instance) => instance.deliverEvent(event));
        if (outcome === 'retry' && attempt < 30) {
          injector.count('event redelivered after failure');
          // Event Grid backs off (10 s, 30 s, 1 min, 5 min, … up to a day); here from one minute, doubling to an hour.
          deliver(event, now + Math.min(2 ** (attempt - 1), 60) * MINUTE, attempt + 1);
        }
      });
    const announce = (change: WorldEvent): void => {
      const event =
        change.kind === 'subscription-created'
          ? subscriptionCreatedEvent(change.subscriptionId, worldRandom.guid(), new Date(change.at))
          : securityContactsEvent(
              worldRandom.chance(0.5) ? 'event-grid-schema' : 'cloud-events-schema',
              change.subscriptionId,
              change.kind === 'contact-written' ? 'write' : 'delete',
              worldRandom.guid(),
              new Date(change.at),
            );
      const delay = worldRandom.between(0, 10) * MINUTE + worldRandom.between(0, 59_000);
      if (delay > 5 * MINUTE) injector.count('event delayed/reordered');
      deliver(event, change.at + delay);
      if (faultRandom.chance(rates.eventDuplicate)) {
        injector.count('event duplicated');
        deliver(event, change.at + worldRandom.between(0, 15) * MINUTE);
      }
    };

    /** Requests each kind of invocation made last time, so that a death can fall anywhere in the next one. */
    const requestsOf = new Map<InvocationKind, number>();
    /** Runs one invocation on an instance, which may die at any of its requests; a dead instance is replaced. */
    const invoke = async <T>(index: number, kind: InvocationKind, action: (instance: AppInstance) => Promise<T>): Promise<T> => {
      const instance = instances[index]!;
      const before = instance.life.requests;
      if (faultRandom.chance(rates.processKill)) {
        instance.life.armAfter(
          faultRandom.between(1, Math.max(1, requestsOf.get(kind) ?? 20)),
          faultRandom.chance(0.5) ? 'before-send' : 'after-send',
        );
      }
      const result = await action(instance);
      checker.noteMail(now);
      injector.collectHits();
      if (instance.life.killed) {
        injector.count('process killed');
        checker.noteKill(now, kind === 'timer' || kind === 'scan');
        instances[index] = index === 0 ? newInstance('a', 0) : newInstance('b', skewed());
      } else {
        instance.life.disarm();
        requestsOf.set(kind, instance.life.requests - before);
      }
      return result;
    };

    const plannedCycles = options.cycles;
    let cycle = 0;
    for (; cycle < plannedCycles; cycle += 1) {
      if (options.budgetMs !== undefined && Date.now() - started > options.budgetMs) break;
      const slot = START + cycle * SLOT_MS;
      seenInStep.clear();
      now = slot;
      world.advanceIndex(now);
      injector.planSlot(now, world.existing());

      // The timer, on one instance or on both at once.
      if (faultRandom.chance(rates.concurrentTimers)) {
        injector.count('timers at once');
        await Promise.all([invoke(0, 'timer', (instance) => instance.runTimer()), invoke(1, 'timer', (instance) => instance.runTimer())]);
      } else {
        const which = faultRandom.between(0, 1);
        await invoke(which, 'timer', (instance) => instance.runTimer());
      }

      // What happens in the tenant and around it until the next slot, in time order.
      planChanges(slot);
      for (;;) {
        agenda.sort((a, b) => a.at - b.at || a.order - b.order);
        if (agenda.length === 0 || agenda[0]!.at >= slot + SLOT_MS) break;
        const item = agenda.shift()!;
        // A race may have moved the clock past an item's time; time never goes back.
        now = Math.max(now, item.at);
        world.advanceIndex(now);
        await item.run();
      }

      now = Math.max(now, slot + SLOT_MS - 1);
      world.advanceIndex(now);
      injector.settleSlot();
      await checker.checkStep(cycle, now);
      // Memory stays flat: the messages read so far are dropped from the service (their operations stay).
      checker.noteMail(now);
      mail.forgetContent();
      checker.messagesForgotten();
      if (cycle % 25 === 0) checker.sampleHeap(cycle);
      if (cycle % 48 === 47) {
        world.forgetBefore(now - (HISTORY_RETENTION_DAYS + 15) * DAY);
        await checker.checkStorage(await countRows(observer));
      }
      options.onProgress?.({
        cycle: cycle + 1,
        cycles: plannedCycles,
        violations: checker.violations.length,
        elapsedMs: Date.now() - started,
      });
    }

    const traced = process.env.SOAK_TRACE?.toLowerCase();
    if (traced) {
      console.error('world', JSON.stringify(world.describe(traced)));
      console.error('tenant', JSON.stringify(tenant.getSubscription(traced)));
      console.error('record', JSON.stringify(await observer.getSubscription(traced)));
      console.error('history', JSON.stringify(await observer.history(traced)));
      console.error('faults', JSON.stringify(injector.contactFaults.get(traced)));
      for (const run of await observer.listScanRuns(80))
        console.error('run', run.startedAt, run.trigger, run.outcome, run.complete, run.error ?? '');
    }
    await checker.checkStorage(await countRows(observer));
    checker.finishMemory(cycle, now);
    const rows = await countTableRows(observer);
    const minutes = (delays: number[]) => delays.map((ms) => Math.max(0, ms) / MINUTE).sort((a, b) => a - b);
    const afterRecovery = minutes(checker.figures.delaysAfterRecoveryMs);
    const afterChange = minutes(checker.figures.delaysAfterChangeMs);
    const heap = checker.heapTrend();
    return {
      seed: options.seed,
      cycles: cycle,
      plannedCycles,
      simulatedDays: (cycle * SLOT_MS) / DAY,
      faults: injector.counts,
      faultsInjected: injector.total(),
      violations: checker.violations,
      emailsSent: checker.figures.emailsSent,
      duplicates: checker.figures.duplicates,
      alertDelayAfterRecoveryMinutes: {
        p50: percentile(afterRecovery, 0.5),
        p99: percentile(afterRecovery, 0.99),
        count: afterRecovery.length,
      },
      alertDelayAfterChangeMinutes: { p50: percentile(afterChange, 0.5), p99: percentile(afterChange, 0.99), count: afterChange.length },
      rowsStored: Object.values(rows).reduce((sum, count) => sum + count, 0),
      tableRows: rows,
      peakRssBytes: peakRss(),
      heapTrendMbPerThousandSteps: heap.judged ? heap.bytesPerThousandSteps / 1048576 : null,
      elapsedMs: Date.now() - started,
    };

    /** The tenant's life in one slot, and what people do around it. */
    function planChanges(slot: number): void {
      const at = (): number => slot + worldRandom.between(1, 29) * MINUTE + worldRandom.between(0, 59_000);
      const enabled = (): string[] => world.existing().filter((id) => world.truthAt(id, now, 'api') !== 'skipped');
      const anyOf = (ids: string[], run: (id: string) => Promise<void> | void) => (): Promise<void> | void =>
        ids.length === 0 ? undefined : run(worldRandom.pick(ids));
      for (let change = 0; change < 2; change += 1) {
        if (!worldRandom.chance(0.3)) continue;
        schedule(at(), () =>
          anyOf(enabled(), (id) => {
            const event = world.setContact(now, id, pickContact(worldRandom));
            if (worldRandom.chance(0.8)) announce(event);
          })(),
        );
      }
      if (worldRandom.chance(0.05)) schedule(at(), createSubscription);
      if (worldRandom.chance(0.03)) {
        schedule(at(), () => {
          const candidates = enabled();
          if (candidates.length > options.subscriptions / 2) world.setState(now, worldRandom.pick(candidates), 'Disabled');
        });
      }
      if (worldRandom.chance(0.02)) {
        schedule(at(), () =>
          anyOf(
            world.existing().filter((id) => world.truthAt(id, now, 'api') === 'skipped'),
            (id) => (worldRandom.chance(0.5) ? world.setState(now, id, 'Enabled') : world.remove(now, id)),
          )(),
        );
      }
      if (worldRandom.chance(0.03)) schedule(at(), () => anyOf(world.existing(), (id) => world.rename(id))());
      if (worldRandom.chance(0.02)) schedule(at(), () => anyOf(world.existing(), (id) => world.move(id))());
      if (worldRandom.chance(0.01)) {
        schedule(at(), () =>
          anyOf(enabled(), (id) =>
            world.setUnreadable(
              now,
              id,
              worldRandom.chance(0.3) ? null : worldRandom.pick(['forbidden', 'not-found', 'not-json'] as const),
            ),
          )(),
        );
      }
      if (worldRandom.chance(0.005)) {
        schedule(at(), () => anyOf(enabled(), (id) => world.setProviderNotRegistered(now, id, worldRandom.chance(0.5)))());
      }
      if (worldRandom.chance(0.05)) schedule(at(), () => anyOf(world.existing(), askGate)());
      if (worldRandom.chance(0.01)) schedule(at(), requestScan);
      if (worldRandom.chance(0.01)) schedule(at(), () => anyOf(world.existing(), exemptOrLift)());
    }

    /** A new subscription; the vending pipeline may announce it, ask the gate and set its contact. */
    function createSubscription(): void {
      const withContact = worldRandom.chance(0.3);
      const id = world.addSubscription(now, { indexed: false, ...(withContact ? {} : { contact: contactNamed('no-contact') }) });
      if (worldRandom.chance(0.7)) announce({ kind: 'subscription-created', subscriptionId: id, at: now });
      if (worldRandom.chance(0.6)) schedule(now + worldRandom.between(1, 4) * MINUTE, () => askGate(id));
      if (!withContact && worldRandom.chance(0.6)) {
        schedule(now + worldRandom.between(5, 20) * MINUTE, () => {
          if (!world.exists(id)) return;
          const event = world.setContact(now, id, contactNamed('compliant-2023'));
          if (worldRandom.chance(0.8)) announce(event);
        });
      }
    }

    /**
     * While an instance is about to write a subscription's record, its contact changes and another
     * instance evaluates it from the change's event (a later reading): the write must not undo that.
     */
    async function raceWrite(subscriptionId: string): Promise<void> {
      if (!world.exists(subscriptionId) || world.truthAt(subscriptionId, now, 'api') === 'skipped') return;
      now += raceRandom.between(1, 20) * 1000;
      world.advanceIndex(now);
      const change = world.setContact(now, subscriptionId, pickContact(raceRandom));
      injector.count('event racing a write');
      const event = securityContactsEvent(
        'event-grid-schema',
        subscriptionId,
        change.kind === 'contact-written' ? 'write' : 'delete',
        raceRandom.guid(),
        new Date(now),
      );
      if ((await racer.deliverEvent(event)) === 'ok') {
        const record = await observer.getSubscription(subscriptionId);
        if (record) checker.observe(record);
      }
      checker.noteMail(now);
    }

    /** An operator asks for a scan (POST /api/scans) and reads its report. */
    async function requestScan(): Promise<void> {
      const startedAt = now;
      const answer = await invoke(faultRandom.between(0, 1), 'scan', (instance) => instance.requestScan());
      if (answer.report) checker.checkReport(cycle, now, startedAt, answer.report);
    }

    async function askGate(id: string): Promise<void> {
      const answer = await invoke(faultRandom.between(0, 1), 'gate', (instance) => instance.askCompliance(id));
      checker.checkGate(cycle, now, id, answer);
    }

    /** An operator exempts a subscription for one to fourteen days, or lifts an exemption early. */
    async function exemptOrLift(id: string): Promise<void> {
      if (world.isExempt(id, now) && worldRandom.chance(0.5)) {
        await observer.removeExemption(id);
        world.setExemption(now, id, null);
        return;
      }
      const expiresOn = new Date(now + worldRandom.between(1, 14) * DAY).toISOString().slice(0, 10);
      await observer.putExemption({
        subscriptionId: id,
        reason: 'Sandbox being decommissioned',
        owner: TEST_RECIPIENTS[0],
        expiresOn,
        createdBy: 'soak-operator',
      });
      world.setExemption(now, id, Date.parse(`${expiresOn}T00:00:00.000Z`) + DAY);
    }
  }
}

/** Rows per table (by suffix) of the app's storage. */
async function countTableRows(store: ReturnType<TestTables['openStore']>): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const suffix of [...Object.values(TABLE_SUFFIXES), OUTBOX_TABLE_SUFFIX, SCAN_REPORTS_TABLE_SUFFIX]) {
    let count = 0;
    try {
      const table = await store.connection.table(suffix);
      for await (const _ of table.listEntities({ queryOptions: { select: ['RowKey'] } })) count += 1;
    } catch {
      continue;
    }
    rows[suffix] = count;
  }
  return rows;
}

/** Rows per subscription (its record and its history) and scan-run rows. */
async function countRows(
  store: ReturnType<TestTables['openStore']>,
): Promise<{ perSubscription: Map<string, number>; storedScans: number }> {
  const perSubscription = new Map<string, number>();
  const state = await store.connection.table(TABLE_SUFFIXES.subscriptions);
  for await (const row of state.listEntities({ queryOptions: { select: ['RowKey'] } })) {
    // `state:<id>` and `history:<id>:<time>:<by>`.
    const id = (row.rowKey ?? '').split(':')[1] ?? '';
    perSubscription.set(id, (perSubscription.get(id) ?? 0) + 1);
  }
  // Scans whose status and report GET /api/scans/{scanId} can still answer: one partition each, beside the index.
  const reports = await store.connection.table(SCAN_REPORTS_TABLE_SUFFIX);
  const scans = new Set<string>();
  for await (const row of reports.listEntities({ queryOptions: { select: ['PartitionKey'] } })) scans.add(row.partitionKey ?? '');
  scans.delete('started');
  return { perSubscription, storedScans: scans.size };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
