/**
 * `contact-watch fix` (docs/reference/remediation.md): the command around the use case of src/remediation/fix.ts —
 * the policy it needs, the exemptions from Table Storage when a store is set, progress on stderr,
 * the result on stdout or --output, and the exit code.
 */
import { openCliDependencies, signIn } from '../compose/cli.js';
import { fixSucceeded, runFix, type FixRun } from '../remediation/fix.js';
import { renderFixReport, summaryLine as fixSummaryLine, type FixReportFormat } from '../report/fix-report.js';
import { checkWritable, currentUser, EXIT, loadPolicy, UsageError, type CliIo } from './cli-support.js';
import { limitingHeapGrowth } from './heap-growth.js';
import { createProgressReporter } from './progress.js';
import { writeReport } from './report-output.js';

export interface FixCommandOptions {
  subscription: string[];
  managementGroup: string[];
  config?: string;
  dryRun?: boolean;
  format: FixReportFormat;
  output?: string;
  store?: boolean;
}

export async function fixCommand(options: FixCommandOptions, io: CliIo): Promise<number> {
  const policy = await loadPolicy(options.config, io.env);
  if (policy.remediation.emails.length === 0) {
    throw new UsageError(
      'fix needs remediation.emails in the policy (--config FILE, or CONTACT_WATCH_POLICY): the addresses to add where a contact ' +
        'has no valid one, for example {"remediation": {"emails": ["secops@your-company.com"]}}',
    );
  }
  if (options.output) await checkWritable(options.output);
  // Exemptions live in Table Storage: read them whenever a store is set, so that an exempt
  // subscription is never written; record the writes only with --store.
  const { azure, store, repairClaims } = openCliDependencies(
    io.env,
    options.store ? { storeFor: 'fix --store' } : { storeIfSet: 'fix (its exemptions)' },
  );
  await signIn(azure);
  if (!store) {
    io.stderr(
      'contact-watch: no Table Storage is set (CONTACT_WATCH_STORAGE), so no exemption is known to this run: every noncompliant subscription in scope is fixed.\n',
    );
  }
  const exemptions = store ? await store.listExemptions() : [];
  const progress = createProgressReporter(io.stderr);
  let run: FixRun;
  try {
    run = await runFix(
      { subscriptionIds: options.subscription, managementGroupIds: options.managementGroup },
      {
        inventory: azure.inventory,
        contacts: azure.contacts,
        writer: azure.contacts,
        subscriptions: azure.subscriptions,
        policy,
        exemptions,
        ...(options.store && store ? { store } : {}),
        // The app's claims too, where Table Storage is set: a subscription it is repairing is left to it.
        ...(repairClaims ? { claims: repairClaims } : {}),
        onProgress: limitingHeapGrowth(progress.update),
      },
      { dryRun: options.dryRun === true, by: `fix by ${currentUser(io.env)}` },
    );
  } finally {
    progress.stop();
  }
  const rendered = renderFixReport(run.report, options.format, run.changes);
  await writeReport([rendered], options.output, io);

  io.stderr(
    `contact-watch: ${fixSummaryLine(run.report)} (${run.stats.resourceGraphRequests} Resource Graph requests, ${run.stats.securityContactsCalls} securityContacts reads, ${run.stats.writes} writes)\n`,
  );
  if (run.unrecorded.length > 0) {
    io.stderr(
      `contact-watch: ${run.unrecorded.length} write(s) were made but could not be recorded in Table Storage: ` +
        `${run.unrecorded
          .slice(0, 5)
          .map((entry) => `${entry.subscriptionId} (${entry.reason})`)
          .join('; ')}${run.unrecorded.length > 5 ? ' …' : ''}\n`,
    );
  }
  return fixSucceeded(run.report) ? EXIT.ok : EXIT.findings;
}
