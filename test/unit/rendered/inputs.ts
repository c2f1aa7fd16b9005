/**
 * Fixed inputs for the characterisation of what contact-watch renders for people: the HTML report
 * (`scan --format html`), the operator page (GET /api/report) and the alert e-mails. Together they
 * reach every branch of the pages and messages: every status, hostile and bidirectional text, every
 * kind of merged fix, exemptions active and expired, and undelivered alert messages of every state
 * and channel.
 */
import type { OwedAlert } from '../../../src/core/alerts.js';
import type { ContactFix, ContactRemediation, SubscriptionVerdict } from '../../../src/core/model.js';
import type { Exemption, ScanRunRecord, SubscriptionRecord } from '../../../src/core/state-model.js';
import type { OutboxMessage } from '../../../src/alerts/ports.js';
import { securityContactRestBody } from '../../../src/core/rules/remediation.js';
import { COMPLIANT, EXEMPT, NO_CONTACT, NONCOMPLIANT_HOSTILE, SKIPPED, UNREADABLE } from '../report/report-fixture.js';

/** The operator page's clock. */
export const RENDER_AT = new Date('2025-03-10T12:00:00.000Z');

const OWN_CONTACT_FIXED = {
  properties: {
    emails: 'payments-oncall@fabrikam.com',
    phone: '+1-555-0100',
    isEnabled: true,
    notificationsByRole: { state: 'On', roles: ['Contributor', 'Owner'] },
    notificationsSources: [
      { sourceType: 'Alert', minimalSeverity: 'Medium' },
      { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
    ],
  },
};

const PUT_FIX: ContactFix = {
  kind: 'put',
  body: OWN_CONTACT_FIXED,
  placeholderEmails: false,
  changes: ['added Owner to the notified roles', 'added attack path e-mails from High risk level'],
};

/** contact-watch's writes of a contact: one that repaired it, one the service refused (hostile text in both). */
const REPAIRED: ContactRemediation = {
  at: '2025-03-10T11:31:05.000Z',
  by: 'fix by alice@fabrikam.io',
  outcome: 'fixed',
  changes: ['removed "<b>admin@contoso.com</b>", which failed email-configured', 'added Owner to the notified roles'],
};
const REPAIR_FAILED: ContactRemediation = {
  at: '2025-03-09T10:05:00.000Z',
  by: 'app: scan <scan-2>',
  outcome: 'failed',
  changes: ['added Owner to the notified roles'],
  reason: 'the write was refused: HTTP 403 AuthorizationFailed <img src=x> \u202Eoops',
};

function record(verdict: SubscriptionVerdict, overrides: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  return {
    subscriptionId: verdict.subscriptionId,
    displayName: verdict.displayName,
    state: verdict.state,
    status: verdict.status,
    failedRules: verdict.findings.filter((finding) => finding.result === 'fail').map((finding) => finding.ruleId),
    findings: verdict.findings,
    contact: verdict.contact,
    source: verdict.source,
    firstSeenAt: '2025-01-01T00:00:00.000Z',
    lastEvaluatedAt: '2025-03-10T11:30:00.000Z',
    statusSince: '2025-02-20T08:00:00.000Z',
    noncompliantSince: null,
    lastAlertedAt: null,
    lastEvaluatedBy: 'scan-3',
    readAt: '2025-03-10T11:30:00.000Z',
    fix: verdict.fix ?? null,
    omitted: null,
    lastRemediation: null,
    ...overrides,
  };
}

/** The stored state: one record of every status, one `gone`, one whose status is not a known one. */
export const RECORDS: SubscriptionRecord[] = [
  record(COMPLIANT, { lastRemediation: REPAIRED }),
  record(NONCOMPLIANT_HOSTILE, {
    noncompliantSince: '2025-02-01T09:00:00.000Z',
    lastAlertedAt: '2025-03-08T06:00:00.000Z',
    fix: PUT_FIX,
    lastRemediation: REPAIR_FAILED,
  }),
  record(NO_CONTACT, {
    noncompliantSince: '2025-03-10T02:00:00.000Z',
    fix: { kind: 'not-fixable', reason: 'the Microsoft.Security resource provider is not registered' },
  }),
  record(UNREADABLE, { noncompliantSince: '2025-03-09T10:00:00.000Z', statusSince: '2025-03-09T10:00:00.000Z' }),
  record(EXEMPT),
  record(SKIPPED),
  record({ ...COMPLIANT, subscriptionId: '99999999-0000-4000-8000-00000000dead', displayName: 'Deleted' }, { status: 'gone' }),
  record(
    { ...UNREADABLE, subscriptionId: 'b0b0b0b0-0000-4000-8000-000000000002', displayName: 'Locked \u202Egpj.exe' },
    {
      noncompliantSince: null,
      statusSince: 'not a date',
    },
  ),
];

const counts = (compliant: number, noncompliant: number, error: number) => ({
  subscriptions: compliant + noncompliant + error + 2,
  compliant,
  noncompliant,
  exempt: 1,
  error,
  skipped: 1,
});

function run(
  scanId: string,
  startedAt: string,
  outcome: ScanRunRecord['outcome'],
  c: ScanRunRecord['counts'],
  finishedAt: string | null,
): ScanRunRecord {
  return {
    scanId,
    startedAt,
    finishedAt,
    outcome,
    counts: c,
    resourceGraphRequests: 2,
    securityContactsCalls: 3,
    durationMs: 4_000,
    trigger: 'timer',
  };
}

/** Newest first, as the store lists them; the newest is still running. */
export const RUNS: ScanRunRecord[] = [
  run('scan-4', '2025-03-10T11:45:00.000Z', 'running', counts(0, 0, 0), null),
  run('scan-3', '2025-03-10T11:30:00.000Z', 'partial', counts(1, 2, 2), '2025-03-10T11:30:42.500Z'),
  run('scan-2', '2025-03-10T11:00:00.000Z', 'succeeded', counts(2, 2, 0), '2025-03-10T11:00:40.000Z'),
  run('scan-1', '2025-03-10T10:30:00.000Z', 'failed', counts(0, 0, 0), '2025-03-10T10:30:05.000Z'),
];

export const EXEMPTIONS: Exemption[] = [
  {
    subscriptionId: EXEMPT.subscriptionId,
    reason: 'research tenant <b>no production data</b>',
    owner: 'lab-owner@fabrikam.io',
    expiresOn: '2025-04-09',
    createdBy: 'ciso@fabrikam.io',
    createdAt: '2025-03-01T09:00:00.000Z',
  },
  {
    subscriptionId: NONCOMPLIANT_HOSTILE.subscriptionId.toUpperCase(),
    reason: 'migration in progress',
    owner: 'migrations@fabrikam.io',
    expiresOn: '2025-03-08',
    createdBy: 'ciso@fabrikam.io',
    createdAt: '2025-03-01T09:00:00.000Z',
  },
  {
    subscriptionId: '12345678-0000-4000-8000-000000000000',
    reason: 'not scanned yet',
    owner: 'owner@fabrikam.io',
    expiresOn: '2025-03-10',
    createdBy: 'ciso@fabrikam.io',
    createdAt: '2025-03-09T09:00:00.000Z',
  },
  {
    subscriptionId: COMPLIANT.subscriptionId,
    reason: 'ends tomorrow',
    owner: 'owner@fabrikam.io',
    expiresOn: '2025-03-11',
    createdBy: 'ciso@fabrikam.io',
    createdAt: '2025-03-09T09:00:00.000Z',
  },
];

function message(
  operationId: string,
  state: OutboxMessage['state'],
  lastError: string | null,
  channel: OutboxMessage['channel'] = 'email',
): OutboxMessage {
  return {
    operationId,
    batchId: 'batch-1',
    channel,
    body: '',
    recipientGroup: 0,
    mode: 'digest',
    to: ['secops@fabrikam.io'],
    subscriptionIds: [NONCOMPLIANT_HOSTILE.subscriptionId, NO_CONTACT.subscriptionId],
    alertKeys: ['a', 'b'],
    createdAt: '2025-03-09T12:00:00.000Z',
    sequence: 0,
    subject: 'subject',
    html: '<p>html</p>',
    plainText: 'text',
    state,
    attempts: 3,
    failures: 2,
    lastError,
    nextAttemptAt: null,
    acceptedAt: null,
    completedAt: null,
    serviceOperationId: null,
    serviceStatus: null,
    resumeState: null,
    leaseUntil: null,
    etag: 'W/"1"',
  };
}

export const UNDELIVERED: OutboxMessage[] = [
  message('6a1d2c8e-0000-4000-8000-000000000001', 'pending', null),
  message('6a1d2c8e-0000-4000-8000-000000000002', 'failed', 'EmailDropped: <the recipient> was rejected'),
  message('6a1d2c8e-0000-4000-8000-000000000003', 'dead', null),
  message('6a1d2c8e-0000-4000-8000-000000000004', 'pending', null, 'teams'),
  message('6a1d2c8e-0000-4000-8000-000000000005', 'failed', 'The Teams workflow refused the message: 400 Bad Request', 'teams'),
  message('6a1d2c8e-0000-4000-8000-000000000006', 'dead', null, 'webhook'),
];

// ---------------------------------------------------------------------------------------------
// Alert e-mails

export const NOW = new Date('2025-03-10T12:00:00.000Z');
export const HOSTILE =
  'Prod <script>alert(1)</script>\r\nBcc: attacker@evil.test\r\n"quoted" & \'single\' \u202Egpj.exe https://evil.example www.evil.example';

function alert(overrides: Partial<OwedAlert> = {}): OwedAlert {
  const subscriptionId = overrides.subscriptionId ?? '6f1b2c3d-0000-4000-8000-000000000001';
  return {
    key: `${subscriptionId}|alert`,
    kind: 'alert',
    subscriptionId,
    displayName: 'Payments prod',
    status: 'noncompliant',
    since: '2025-03-07T12:00:00.000Z',
    findings: [
      { ruleId: 'email-configured', result: 'fail', message: 'admin@contoso.com is on a placeholder domain' },
      { ruleId: 'owner-notifications', result: 'fail', message: 'role notifications are off' },
    ],
    fix: PUT_FIX,
    ...overrides,
  };
}

const NO_CONTACT_FINDINGS = NO_CONTACT.findings;

/** One alert of every kind, status and fix. */
export const ALERTS: Record<string, OwedAlert> = {
  put: alert(),
  placeholder: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-000000000002',
    displayName: 'No contact',
    findings: NO_CONTACT_FINDINGS,
    fix: { kind: 'put', body: securityContactRestBody(), placeholderEmails: true, changes: [] },
  }),
  notFixable: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-000000000003',
    displayName: 'Unregistered',
    findings: NO_CONTACT_FINDINGS,
    fix: { kind: 'not-fixable', reason: 'the Microsoft.Security resource provider is not registered \u202Eoops' },
  }),
  tooLarge: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-000000000004',
    displayName: 'Huge',
    fix: { kind: 'too-large', bytes: 70_000 },
  }),
  unknownFix: alert({ subscriptionId: '6f1b2c3d-0000-4000-8000-000000000005', displayName: 'Old record', fix: undefined }),
  noneFix: alert({ subscriptionId: '6f1b2c3d-0000-4000-8000-000000000006', displayName: 'Nothing to write', fix: { kind: 'none' } }),
  attackPath: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-000000000007',
    displayName: 'Attack paths',
    findings: [
      { ruleId: 'alert-notifications', result: 'fail', message: 'Alert e-mails are off.' },
      { ruleId: 'attack-path-notifications', result: 'fail', message: 'No AttackPath notification source is configured.' },
      { ruleId: 'owner-notifications', result: 'error', message: 'role "Admin" is not one of the roles' },
    ],
  }),
  unreadable: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-000000000008',
    displayName: 'Locked',
    status: 'error',
    findings: UNREADABLE.findings,
    fix: undefined,
  }),
  unreadableNoFindings: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-000000000009',
    displayName: '',
    status: 'error',
    findings: [],
    fix: undefined,
  }),
  reminder: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-00000000000a',
    kind: 'reminder',
    displayName: 'Reminded',
    since: '2025-02-01T00:00:00.000Z',
  }),
  unreadableReminder: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-00000000000b',
    kind: 'reminder',
    status: 'error',
    findings: UNREADABLE.findings,
    fix: undefined,
  }),
  fixed: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-00000000000c',
    kind: 'fixed',
    status: 'compliant',
    displayName: 'Data lake',
    findings: [],
    fix: undefined,
  }),
  repaired: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-00000000000e',
    key: '6f1b2c3d-0000-4000-8000-00000000000e|repaired|compliant|2025-03-10T11:31:05.000Z',
    kind: 'repaired',
    status: 'compliant',
    displayName: 'Repaired <i>by</i> contact-watch \u202Egpj.exe',
    since: '2025-03-10T11:31:06.000Z',
    findings: [],
    fix: undefined,
    repair: REPAIRED,
  }),
  repairFailed: alert({
    subscriptionId: '6f1b2c3d-0000-4000-8000-00000000000f',
    displayName: 'Repair refused',
    since: '2025-03-09T10:00:00.000Z',
    repair: REPAIR_FAILED,
  }),
  hostile: alert({
    subscriptionId: 'not-a-guid\r\n<b>',
    displayName: HOSTILE,
    findings: [
      {
        ruleId: 'email-configured',
        result: 'fail',
        message: `Not a valid e-mail address: "<img src=x onerror=alert(1)>" ${'x'.repeat(600)}`,
      },
    ],
  }),
  noFindings: alert({ subscriptionId: '6f1b2c3d-0000-4000-8000-00000000000d', displayName: 'Empty', findings: [], since: 'not a date' }),
};

/** A tenant's backlog: enough subscriptions for sections, rows and a remainder in one digest. */
export function backlog(count: number): OwedAlert[] {
  return Array.from({ length: count }, (_, i) => {
    const subscriptionId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const unreadable = i % 7 === 3;
    const kind = i % 5 === 4 ? 'reminder' : i % 11 === 10 ? 'fixed' : 'alert';
    return alert({
      subscriptionId,
      key: `${subscriptionId}|alert`,
      displayName: `Subscription ${String(i).padStart(4, '0')} of the platform team`,
      status: kind === 'fixed' ? 'compliant' : unreadable ? 'error' : 'noncompliant',
      kind,
      since: new Date(NOW.getTime() - (1 + (i % 40)) * 86_400_000).toISOString(),
      findings: kind === 'fixed' ? [] : unreadable ? UNREADABLE.findings : i % 2 ? NO_CONTACT_FINDINGS : alert().findings,
      ...(unreadable ? { fix: undefined } : {}),
    });
  });
}
