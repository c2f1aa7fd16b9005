/**
 * `scan --store`, `scan --notify`, the exemption commands (docs/reference/cli.md and docs/reference/alerts.md) and the outbox
 * commands (`outbox`, `requeue`) end to end:
 * the command line against Azurite and the local Azure test server with its ACS Email service.
 * The first `scan --notify` runs the built command line as a process; the others run the program
 * in this process (runCliInProcess), which reads the same settings the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedTenant, startLocalAzure } from '../../azure-server/index.js';
import type { LocalAzure } from '../../azure-server/index.js';
import { createCommunicationEmailService, type CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { startAzurite } from '../../support/azurite.js';
import { runCliInProcess, runContactWatch } from '../../support/cli.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { expectValidReport } from '../../support/report-schema.js';

const COMPLIANT = '11111111-1111-4111-8111-111111111111';
const NO_CONTACT = '22222222-2222-4222-8222-222222222222';
const HOSTILE_NAME = '33333333-3333-4333-8333-333333333333';
const SENDER = 'DoNotReply@contact-watch.test';

let tenant: SimulatedTenant;
let azure: LocalAzure;
let mail: CommunicationEmailService;
let azurite: Awaited<ReturnType<typeof startAzurite>>;
let env: Record<string, string>;

beforeAll(async () => {
  tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Production', contacts: [compliantContact2023()] });
  tenant.addSubscription({ subscriptionId: NO_CONTACT, displayName: 'Sandbox', contacts: [] });
  tenant.addSubscription({ subscriptionId: HOSTILE_NAME, displayName: 'Evil <script>alert(1)</script>\r\nBcc: x@evil.test', contacts: [] });
  // retryAfterSeconds 0: the SDK's poll of a send does not wait the service's suggested second.
  mail = createCommunicationEmailService({ accessKey: Buffer.from('local-test-access-key').toString('base64'), retryAfterSeconds: 0 });
  [azure, azurite] = await Promise.all([startLocalAzure({ tenant, services: [mail] }), startAzurite()]);
  env = {
    ...azure.env(),
    CONTACT_WATCH_STORAGE: azurite.connectionString,
    CONTACT_WATCH_ACS_CONNECTION_STRING: mail.connectionString(azure.url),
    CONTACT_WATCH_EMAIL_SENDER: SENDER,
    CONTACT_WATCH_ALERT_RECIPIENTS: 'secops@fabrikam.io; soc@fabrikam.io',
  };
});

afterAll(async () => {
  await Promise.all([azure?.close(), azurite?.stop()]);
});

describe('scan --notify', () => {
  it('records the scan and sends one digest for everything owed', async () => {
    const run = await runContactWatch(['scan', '--notify', '--format', 'json'], env);
    expect(run.code, run.stderr).toBe(0);
    expectValidReport(JSON.parse(run.stdout));
    expect(JSON.parse(run.stdout).summary).toMatchObject({ compliant: 1, noncompliant: 2 });
    expect(mail.messages).toHaveLength(1);
    const [digest] = mail.messages;
    expect(digest!.to.map((r) => r.address)).toEqual(['secops@fabrikam.io', 'soc@fabrikam.io']);
    expect(digest!.senderAddress).toBe(SENDER);
    expect(digest!.html).toContain(NO_CONTACT);
    expect(digest!.html).toContain(HOSTILE_NAME);
    expect(digest!.html).not.toContain(COMPLIANT);
    expect(run.stderr).toMatch(/1 message\(s\) sent, 0 queued/);
  });

  it('keeps a hostile display name inert: escaped in the HTML, absent from the subject', () => {
    const [digest] = mail.messages;
    expect(digest!.html).not.toContain('<script>alert(1)</script>');
    expect(digest!.html).toContain('&lt;script&gt;');
    expect(digest!.subject).not.toMatch(/[\r\n]/);
    expect(digest!.subject).not.toContain('Bcc');
  });

  it('does not alert again on the next scan', async () => {
    const run = await runCliInProcess(['scan', '--notify'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(mail.messages).toHaveLength(1);
  });

  it('refuses --notify without e-mail settings before doing any work, naming the setting', async () => {
    azure.requests.clear();
    const { CONTACT_WATCH_EMAIL_SENDER: _omitted, ...withoutSender } = env;
    const run = await runCliInProcess(['scan', '--notify'], withoutSender);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/CONTACT_WATCH_EMAIL_SENDER/);
    expect(azure.requests.count('resource-graph')).toBe(0);
  });

  it('refuses --store without storage, naming CONTACT_WATCH_STORAGE', async () => {
    const { CONTACT_WATCH_STORAGE: _omitted, ...withoutStorage } = env;
    const run = await runCliInProcess(['scan', '--store'], withoutStorage);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/CONTACT_WATCH_STORAGE/);
  });
});

describe('exemptions', () => {
  const inSixMonths = new Date(Date.now() + 182 * 86_400_000).toISOString().slice(0, 10);

  it('exempts a subscription: the next stored scan reports it exempt', async () => {
    const exempt = await runCliInProcess(
      ['exempt', NO_CONTACT, '--reason', 'Sandbox, torn down in Q3', '--owner', 'lead@fabrikam.io', '--expires', inSixMonths],
      env,
    );
    expect(exempt.code, exempt.stderr).toBe(0);
    const list = await runCliInProcess(['exemptions', '--format', 'json'], env);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ subscriptionId: NO_CONTACT, owner: 'lead@fabrikam.io', expiresOn: inSixMonths, active: true }),
    ]);
    const scan = await runCliInProcess(['scan', '--store', '--format', 'json'], env);
    const report = JSON.parse(scan.stdout);
    expectValidReport(report);
    expect(report.subscriptions.find((s: any) => s.subscriptionId === NO_CONTACT).status).toBe('exempt');
    expect(report.summary).toMatchObject({ exempt: 1, noncompliant: 1 });
  });

  it('refuses an exemption without a real expiry or more than a year ahead, naming the option', async () => {
    const tooFar = new Date(Date.now() + 400 * 86_400_000).toISOString().slice(0, 10);
    const run = await runCliInProcess(['exempt', COMPLIANT, '--reason', 'x', '--owner', 'lead@fabrikam.io', '--expires', tooFar], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--expires/);
    const bad = await runCliInProcess(['exempt', COMPLIANT, '--reason', 'x', '--owner', 'not-an-address', '--expires', inSixMonths], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--owner/);
    const missing = await runCliInProcess(['exempt', COMPLIANT, '--reason', 'x', '--owner', 'lead@fabrikam.io'], env);
    expect(missing.code).toBe(2);
  });

  it('unexempts: the subscription is judged again', async () => {
    const run = await runCliInProcess(['unexempt', NO_CONTACT], env);
    expect(run.code, run.stderr).toBe(0);
    const scan = await runCliInProcess(['scan', '--store', '--format', 'json'], env);
    expectValidReport(JSON.parse(scan.stdout));
    expect(JSON.parse(scan.stdout).subscriptions.find((s: any) => s.subscriptionId === NO_CONTACT).status).toBe('noncompliant');
    const list = await runCliInProcess(['exemptions'], env);
    expect(list.stdout).toMatch(/No exemptions/);
  });
});

describe('outbox and requeue', () => {
  let failedId: string;

  it('lists a digest the mail service failed, marked FAILED, with the way to send it again', async () => {
    tenant.deleteContacts(COMPLIANT);
    mail.faults.add({ kind: 'fail-delivery' });
    const scan = await runCliInProcess(['scan', '--notify'], env);
    expect(scan.code, scan.stderr).toBe(0);
    expect(scan.stderr).toMatch(/1 failed and kept in the outbox/);

    const json = await runCliInProcess(['outbox', '--format', 'json'], env);
    expect(json.code, json.stderr).toBe(0);
    const [message, ...others] = JSON.parse(json.stdout);
    expect(others).toEqual([]);
    expect(message).toMatchObject({
      channel: 'email',
      state: 'failed',
      mode: 'digest',
      to: ['secops@fabrikam.io', 'soc@fabrikam.io'],
      attempts: 1,
    });
    expect(message.subscriptionIds).toContain(COMPLIANT);
    expect(message.lastError).toMatch(/EmailDropped/);
    expect(Object.keys(message)).not.toContain('html');
    failedId = message.operationId;

    const table = await runCliInProcess(['outbox'], env);
    expect(table.stdout.split('\n')[0]).toMatch(/^OPERATION ID +CHANNEL +STATE +CREATED +SUBSCRIPTIONS +ATTEMPTS +LAST ERROR$/);
    expect(table.stdout).toContain(`${failedId}  email    FAILED`);
    expect(table.stdout).toContain('1 failed or given up: `contact-watch requeue <operation id>` (or --all)');
  });

  it('refuses a requeue without ids, with ids and --all, or with something that is not an operation id, before opening storage', async () => {
    const { CONTACT_WATCH_STORAGE: _omitted, ...withoutStorage } = env;
    for (const args of [['requeue'], ['requeue', failedId, '--all'], ['requeue', 'not-an-id']]) {
      const run = await runCliInProcess(args, withoutStorage);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/requeue (needs|takes)|not an operation id/);
    }
  });

  it('requeues the failed message; the next scan --notify delivers it and the outbox is empty', async () => {
    const requeue = await runCliInProcess(['requeue', failedId], env);
    expect(requeue.code, requeue.stderr).toBe(0);
    expect(requeue.stderr).toMatch(
      new RegExp(
        `^contact-watch: ${failedId} \\(failed\\) is queued again as [0-9a-f-]{36} \\(a new Operation-Id: the service answers the old one with its failure\\); the next alert run \\(the timer, or scan --notify\\) sends it\\.\\n$`,
      ),
    );
    const again = await runCliInProcess(['requeue', failedId], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${failedId} is replaced: only failed or given-up messages are requeued.`);

    const sentBefore = mail.messages.length;
    const scan = await runCliInProcess(['scan', '--notify'], env);
    expect(scan.code, scan.stderr).toBe(0);
    expect(mail.messages.slice(sentBefore).map((sent) => sent.html?.includes(COMPLIANT))).toEqual([true]);
    const table = await runCliInProcess(['outbox'], env);
    expect(table.stdout).toBe('Every alert message has been delivered.\n');
    const none = await runCliInProcess(['requeue', '--all'], env);
    expect(none).toMatchObject({ code: 0, stderr: 'contact-watch: no failed or given-up alert message to requeue.\n' });
  });
});

describe('a send that fails or is throttled', () => {
  const LATE_ARRIVAL = '44444444-4444-4444-8444-444444444444';
  const ANOTHER_LATE_ARRIVAL = '55555555-5555-4555-8555-555555555555';
  const HOUR = 3_600_000;

  it('stays queued, stderr says so and that the next run tries again, and the next run at once sends it', async () => {
    tenant.addSubscription({ subscriptionId: LATE_ARRIVAL, displayName: 'Late arrival', contacts: [] });
    // The CLI retries a dropped connection twice within one send: three drops fail the send.
    mail.faults.add({ kind: 'drop', times: 3 });
    const sentBefore = mail.messages.length;
    const failed = await runCliInProcess(['scan', '--notify'], env);
    expect(failed.code, failed.stderr).toBe(0);
    expect(failed.stderr).toContain(
      "alerts: 1 owed, 1 newly queued; 0 message(s) sent, 1 still queued: next attempt due now, at the next run (the timer's, or scan --notify)\n",
    );
    expect(mail.messages).toHaveLength(sentBefore);

    const next = await runCliInProcess(['scan', '--notify'], env);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain('alerts: 0 owed, 0 newly queued; 1 message(s) sent, 0 queued\n');
    expect(mail.messages.slice(sentBefore).map((sent) => sent.html?.includes(LATE_ARRIVAL))).toEqual([true]);
  });

  it('waits one hour, not 31 years, when the service asks for 1e9 seconds, and stderr says until when', async () => {
    tenant.addSubscription({ subscriptionId: ANOTHER_LATE_ARRIVAL, displayName: 'Another late arrival', contacts: [] });
    mail.faults.add({ kind: 'throttle', retryAfter: '1e9' });
    const throttled = await runCliInProcess(['scan', '--notify'], env);
    expect(throttled.code, throttled.stderr).toBe(0);
    const due = /0 message\(s\) sent, 1 still queued: next attempt due (\S+) \(in \d+ min\), as the e-mail service asked\n/.exec(
      throttled.stderr,
    );
    expect(due, throttled.stderr).not.toBeNull();

    const outbox = await runCliInProcess(['outbox', '--format', 'json'], env);
    const [message, ...others] = JSON.parse(outbox.stdout);
    expect(others).toEqual([]);
    expect(message).toMatchObject({ state: 'pending', nextAttemptAt: due![1] });
    expect(message.lastError).toContain('more than the one hour honoured');
    // Counted from the 429 the service recorded: an hour, plus the moments the CLI took to write it down.
    const answeredAt = mail.sendAttempts.at(-1)!;
    expect(answeredAt.outcome).toBe(429);
    const wait = Date.parse(message.nextAttemptAt) - Date.parse(answeredAt.at);
    expect(wait).toBeGreaterThanOrEqual(HOUR);
    expect(wait).toBeLessThan(2 * HOUR);

    // A run within the hour sends nothing, and says the same.
    const attempts = mail.sendAttempts.length;
    const held = await runCliInProcess(['scan', '--notify'], env);
    expect(held.code, held.stderr).toBe(0);
    expect(held.stderr).toContain(`0 message(s) sent, 1 still queued: next attempt due ${due![1]} `);
    expect(mail.sendAttempts).toHaveLength(attempts);
  });
});
