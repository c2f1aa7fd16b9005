/**
 * The command line of docs/reference/cli.md. `runCli` returns the exit code instead of exiting, so the
 * whole program can be driven from tests; src/cli/main.ts is the process entry point.
 */
import packageJson from '../../package.json' with { type: 'json' };
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { ScanReport, SubscriptionVerdict } from '../core/model.js';
import { PolicyError } from '../core/policy.js';
import { RULES } from '../core/rules/index.js';
import { InvalidSubscriptionIdError, isGuid, parseSubscriptionId } from '../core/subscription-id.js';
import { SettingsError } from '../core/settings-error.js';
import { REPORT_FORMATS, renderReportChunks, renderVerdict } from '../report/index.js';
import type { ReportFormat } from '../report/index.js';
import { renderTerraformFix } from '../report/terraform-fix.js';
import { checkSubscription } from '../scan/check.js';
import { runScan, ScanFailedError, type ScanResult } from '../scan/scan.js';
import { runStoredScan, withExemptions, type StoredScanResult } from '../scan/stored-scan.js';
import { applyExemptions, InvalidExemptionError, isExemptionActive } from '../core/exemptions.js';
import { limitingHeapGrowth } from './heap-growth.js';
import { createProgressReporter } from './progress.js';
import { writeReport } from './report-output.js';
import { checkWritable, currentUser, EXIT, loadPolicy, parseWaitSeconds, UsageError, type CliIo } from './cli-support.js';
import { fixCommand, type FixCommandOptions } from './fix-command.js';
import { listUndeliveredMessages, requeueMessage } from '../alerts/outbox-admin.js';
import { isGivenUp } from '../core/outbox-states.js';
import type { AlertDelivery } from '../app/dependencies.js';
import { describeCliFailure, openCliDependencies, openCliOutbox, openCliStore, signIn } from '../compose/cli.js';
import {
  describeDelivery,
  describeMissingChannels,
  renderExemptions,
  renderOutbox,
  renderRequeueOutcome,
  withEachErrorOnce,
} from './render.js';
import { messageOf } from '../core/error-message.js';

export type { CliIo } from './cli-support.js';
export { EXIT } from './cli-support.js';

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.failure;
    }
    io.stderr(`contact-watch: ${describeCliFailure(error, io.env) ?? describeError(error)}\n`);
    if (io.env.CONTACT_WATCH_DEBUG) io.stderr(debugDetails(error));
    return EXIT.failure;
  }
}

function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('contact-watch')
    .description('Makes sure every Azure subscription has a Microsoft Defender for Cloud security contact.')
    .version(packageJson.version)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('scan')
    .description('judge every subscription the identity can see (tenant scope), or only those named')
    .addOption(new Option('--subscription <id>', 'a subscription to scan (repeatable)').argParser(collectSubscriptionIds).default([]))
    .addOption(
      new Option(
        '--management-group <id>',
        'scan the subscriptions under this management group (repeatable); one under which none shows is an error',
      )
        .argParser(collectManagementGroupIds)
        .default([]),
    )
    .option('--config <file>', 'policy file (JSON, docs/reference/policy.md)')
    .addOption(new Option('--format <format>', 'report format').choices(REPORT_FORMATS).default('table'))
    .option('--output <file>', 'write the report to this file instead of stdout')
    .option('--fail-on-noncompliant', 'exit 1 if any subscription is noncompliant or error')
    .option('--store', 'record the results in Table Storage (CONTACT_WATCH_STORAGE or AzureWebJobsStorage)')
    .option('--notify', 'send the alerts that are owed on every configured channel: e-mail, Teams, webhook (implies --store)')
    .action(async (options: ScanOptions) => setExitCode(await scanCommand(options, io)));

  program
    .command('check')
    .description('read one subscription fresh from the securityContacts API and judge it')
    .argument('<subscriptionId>', 'the subscription id (a GUID)')
    .option('--config <file>', 'policy file (JSON, docs/reference/policy.md)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'terraform']).default('table'))
    .addOption(
      new Option('--wait <seconds>', 're-read until compliant or this many seconds have passed').argParser(parseWaitSeconds).default(0),
    )
    .action(async (subscriptionId: string, options: CheckOptions) => setExitCode(await checkCommand(subscriptionId, options, io)));

  program
    .command('fix')
    .description(
      "repair the security contact of every noncompliant subscription in scope: the subscription's own contact, changed only where a required rule fails",
    )
    .addOption(new Option('--subscription <id>', 'a subscription to fix (repeatable)').argParser(collectSubscriptionIds).default([]))
    .addOption(
      new Option('--management-group <id>', 'fix the subscriptions under this management group (repeatable)')
        .argParser(collectManagementGroupIds)
        .default([]),
    )
    .option('--config <file>', 'policy file (JSON); it must name remediation.emails')
    .option('--dry-run', 'send no write: print each body that would be sent')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--output <file>', 'write the result to this file instead of stdout')
    .option('--store', "record each write in the subscription's history in Table Storage, with who made it")
    .action(async (options: FixCommandOptions) => setExitCode(await fixCommand(options, io)));

  program
    .command('exempt')
    .description('exempt a subscription until a date, with a reason and an owner')
    .argument('<subscriptionId>', 'the subscription id (a GUID)')
    .requiredOption('--reason <text>', 'why it is exempt')
    .requiredOption('--owner <email>', 'who answers for the exemption')
    .requiredOption('--expires <YYYY-MM-DD>', 'last day of the exemption (at most one year ahead)')
    .action(async (subscriptionId: string, options: { reason: string; owner: string; expires: string }) => {
      const id = parseSubscriptionId(subscriptionId);
      const { store } = openCliStore(io.env, 'exempt');
      const exemption = await store.putExemption(
        { subscriptionId: id, reason: options.reason, owner: options.owner, expiresOn: options.expires, createdBy: currentUser(io.env) },
        { fieldNames: { reason: '--reason', owner: '--owner', expiresOn: '--expires' } },
      );
      io.stderr(
        `contact-watch: ${exemption.subscriptionId} is exempt until ${exemption.expiresOn} (owner ${exemption.owner}); it takes effect at the next scan.\n`,
      );
    });

  program
    .command('unexempt')
    .description('remove the exemption of a subscription')
    .argument('<subscriptionId>', 'the subscription id (a GUID)')
    .action(async (subscriptionId: string) => {
      const id = parseSubscriptionId(subscriptionId);
      const { store } = openCliStore(io.env, 'unexempt');
      const removed = await store.removeExemption(id);
      io.stderr(
        removed
          ? `contact-watch: the exemption of ${id} was removed; it is judged again at the next scan.\n`
          : `contact-watch: ${id} had no exemption.\n`,
      );
    });

  program
    .command('exemptions')
    .description('list the exemptions, expired ones marked')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (options: { format: 'table' | 'json' }) => {
      const { store } = openCliStore(io.env, 'exemptions');
      io.stdout(renderExemptions(await store.listExemptions(), options.format, new Date()));
    });

  program
    .command('outbox')
    .description('list the alert messages (e-mail, Teams, webhook) not delivered yet: waiting to be sent, or failed and kept')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (options: { format: 'table' | 'json' }) => {
      const outbox = await openCliOutbox(io.env, 'outbox');
      io.stdout(renderOutbox(await listUndeliveredMessages(outbox), options.format));
    });

  program
    .command('requeue')
    .description('queue failed or given-up alert messages again; the next alert run (timer, scan --notify) sends them')
    .argument('[operationIds...]', 'operation ids, as `contact-watch outbox` lists them')
    .option('--all', 'every failed or given-up message')
    .action(async (operationIds: string[], options: { all?: boolean }) => {
      if (options.all && operationIds.length > 0) throw new UsageError('requeue takes operation ids or --all, not both');
      if (!options.all && operationIds.length === 0)
        throw new UsageError('requeue needs operation ids (from `contact-watch outbox`) or --all');
      const notIds = operationIds.filter((id) => !isGuid(id));
      if (notIds.length > 0)
        throw new UsageError(`not an operation id (a UUID, as \`contact-watch outbox\` lists them): ${notIds.join(', ')}`);
      const outbox = await openCliOutbox(io.env, 'requeue');
      const ids = options.all
        ? (await listUndeliveredMessages(outbox)).filter((message) => isGivenUp(message.state)).map((message) => message.operationId)
        : operationIds.map((id) => id.toLowerCase());
      if (ids.length === 0) io.stderr('contact-watch: no failed or given-up alert message to requeue.\n');
      let allRequeued = true;
      for (const id of ids) {
        const outcome = await requeueMessage(outbox, id);
        if (outcome.outcome !== 'requeued') allRequeued = false;
        io.stderr(`contact-watch: ${renderRequeueOutcome(outcome)}\n`);
      }
      setExitCode(allRequeued ? EXIT.ok : EXIT.failure);
    });

  return program;
}

interface ScanOptions {
  subscription: string[];
  managementGroup: string[];
  config?: string;
  format: ReportFormat;
  output?: string;
  failOnNoncompliant?: boolean;
  store?: boolean;
  notify?: boolean;
}

async function scanCommand(options: ScanOptions, io: CliIo): Promise<number> {
  const policy = await loadPolicy(options.config, io.env);
  if (options.output) await checkWritable(options.output);
  // --notify implies --store: what is owed is kept in the store. Settings are checked before any work.
  // Without --store, Table Storage (where it is set) is only read, for the exemptions.
  const recording = options.store === true || options.notify === true;
  const { azure, store, alerts } = openCliDependencies(io.env, {
    ...(recording ? { storeFor: 'scan --store' } : { storeIfSet: 'scan (its exemptions)' }),
    alerting: options.notify === true,
  });
  await signIn(azure);
  const scope = { subscriptionIds: options.subscription, managementGroupIds: options.managementGroup };
  const progress = createProgressReporter(io.stderr);
  const deps = {
    inventory: azure.inventory,
    contacts: azure.contacts,
    subscriptions: azure.subscriptions,
    policy,
    onProgress: limitingHeapGrowth(progress.update),
  };
  let result: ScanResult;
  let stored: StoredScanResult | undefined;
  try {
    if (store && recording) result = stored = await runStoredScan(scope, { ...deps, store, trigger: 'cli' });
    else {
      result = await runScan(scope, deps);
      if (store) result = { ...result, report: withExemptions(result.report, await store.listExemptions(), new Date()) };
    }
  } finally {
    progress.stop();
  }
  const { report, stats } = result;
  const context = { rules: RULES, portalUrl: azure.cloud.portalUrl, policy, productVersion: packageJson.version };
  await writeReport(renderReportChunks(report, options.format, context), options.output, io);

  io.stderr(
    `${summaryLine(report)} in ${(stats.durationMs / 1000).toFixed(1)} s (${stats.resourceGraphRequests} Resource Graph requests, ${stats.securityContactsCalls} securityContacts calls)\n`,
  );
  if (report.summary.subscriptions === 0) {
    io.stderr(
      'contact-watch: no subscriptions are visible to this identity in that scope; grant it Reader and Security Reader (docs/reference/cli.md, Credentials and roles) or check --subscription/--management-group.\n',
    );
  }
  const refused = stored?.recorded.refused ?? [];
  if (refused.length > 0) {
    io.stderr(
      `contact-watch: Table Storage refused the record of ${refused.length} subscription(s), which keep what was stored before (the report above is complete): ` +
        `${refused
          .slice(0, 5)
          .map((write) => `${write.subscriptionId} (${write.reason})`)
          .join('; ')}${refused.length > 5 ? ' …' : ''}\n`,
    );
  }
  if (report.summary.error > 0) {
    io.stderr(`contact-watch: ${report.summary.error} subscription(s) could not be read; their status is "error", never "compliant".\n`);
  }
  if (alerts) await sendOwedAlerts(alerts, io.stderr);
  const failing = report.summary.noncompliant + report.summary.error;
  return options.failOnNoncompliant && failing > 0 ? EXIT.findings : EXIT.ok;
}

/**
 * Queues what is owed as a digest and sends what is pending. A send that fails stays in the
 * outbox for the next run; it never changes the scan's exit code. stderr says what was sent, how
 * many messages remain queued and when the next attempt at them is due.
 */
async function sendOwedAlerts(alerts: AlertDelivery, stderr: (text: string) => void): Promise<void> {
  try {
    const { queued, delivery, pruned } = await alerts.queueAndDeliver({ mode: 'digest' });
    stderr(`contact-watch: alerts: ${queued.owed} owed, ${queued.queued} newly queued; ${describeDelivery(delivery, new Date())}\n`);
    if (queued.missingChannels.length > 0) stderr(`contact-watch: ${describeMissingChannels(queued.missingChannels)}.\n`);
    if (pruned?.error)
      stderr(`contact-watch: old delivered alerts could not be pruned this run (the next one tries again): ${pruned.error}\n`);
  } catch (error) {
    stderr(`contact-watch: alerts could not be sent this run and stay queued: ${messageOf(error)}\n`);
  }
}

interface CheckOptions {
  config?: string;
  format: 'table' | 'json' | 'terraform';
  wait: number;
}

async function checkCommand(subscriptionIdText: string, options: CheckOptions, io: CliIo): Promise<number> {
  const subscriptionId = parseSubscriptionId(subscriptionIdText);
  const policy = await loadPolicy(options.config, io.env);
  // Exemptions live in Table Storage: where one is set, an exempt subscription is `exempt` (exit 0),
  // as the app's compliance route answers; there is then nothing to wait for.
  const { azure, store } = openCliDependencies(io.env, { storeIfSet: 'check' });
  await signIn(azure);
  const exemption = store ? await store.getExemption(subscriptionId) : undefined;
  const exempted = exemption !== undefined && isExemptionActive(exemption, new Date());
  const judged = await checkSubscription(
    subscriptionId,
    { contacts: azure.contacts, subscriptions: azure.subscriptions, policy },
    {
      waitSeconds: exempted ? 0 : options.wait,
      onRetry: (current, nextReadInMs) =>
        io.stderr(`contact-watch: ${subscriptionId} is ${current.status}; reading again in ${Math.round(nextReadInMs / 1000)} s\n`),
    },
  );
  const [verdict = judged] = applyExemptions([judged], exemption ? [exemption] : [], new Date());
  const shown = options.format === 'table' ? withEachErrorOnce(verdict) : verdict;
  const context = { rules: RULES, portalUrl: azure.cloud.portalUrl };
  io.stdout(options.format === 'terraform' ? renderTerraformFix(verdict) : renderVerdict(shown, options.format, context));
  return checkExitCode(verdict);
}

export function checkExitCode(verdict: SubscriptionVerdict): number {
  switch (verdict.status) {
    case 'compliant':
    case 'exempt':
    case 'skipped':
      return EXIT.ok;
    case 'noncompliant':
      return EXIT.findings;
    case 'error':
      return EXIT.failure;
  }
}

function summaryLine(report: ScanReport): string {
  const s = report.summary;
  return `scanned ${s.subscriptions} subscription(s): ${s.compliant} compliant, ${s.noncompliant} noncompliant, ${s.exempt} exempt, ${s.error} error, ${s.skipped} skipped`;
}

/**
 * A blank group (an unset pipeline variable) would otherwise drop out of the scope and turn a
 * management-group scan into a tenant-wide one; a group under which no subscription shows is
 * refused by the scan itself (ManagementGroupsWithoutSubscriptionsError).
 */
function collectManagementGroupIds(value: string, previous: string[]): string[] {
  if (value.trim() === '') throw new InvalidArgumentError('expected a management group ID, got an empty value');
  return [...previous, value.trim()];
}

function collectSubscriptionIds(value: string, previous: string[]): string[] {
  try {
    return [...previous, parseSubscriptionId(value)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** CONTACT_WATCH_DEBUG: the stack, and each cause with what it says (the SDK's account of every sign-in method it tried). */
function debugDetails(error: unknown): string {
  if (!(error instanceof Error)) return `${JSON.stringify(error)}\n`;
  const lines: string[] = [];
  const seen = new Set<Error>();
  for (let current: unknown = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    lines.push(`${lines.length === 0 ? '' : 'caused by: '}${current.stack ?? `${current.name}: ${current.message}`}`);
  }
  return `${lines.join('\n')}\n`;
}

function describeError(error: unknown): string {
  if (
    error instanceof UsageError ||
    error instanceof PolicyError ||
    error instanceof SettingsError ||
    error instanceof InvalidSubscriptionIdError ||
    error instanceof InvalidExemptionError ||
    error instanceof ScanFailedError
  ) {
    return error.message;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
