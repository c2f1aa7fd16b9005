/**
 * The operator page (GET /api/report) from stored records: each failing subscription's own fix
 * comes from its record's merged fix, and contact-watch's last write of a contact is noted where
 * the page lists the subscription.
 */
import { describe, expect, it } from 'vitest';
import type { ContactFix, ContactRemediation, SubscriptionVerdict } from '../../../src/core/model.js';
import { RULES } from '../../../src/core/rules/index.js';
import { azRestPutCommand } from '../../../src/core/rules/remediation.js';
import type { SubscriptionRecord } from '../../../src/core/state-model.js';
import { renderOperatorPage } from '../../../src/report/operator-page.js';
import { COMPLIANT, HOSTILE_NAME, NONCOMPLIANT_HOSTILE, UNREADABLE } from './report-fixture.js';

const NOW = new Date('2025-03-10T12:00:00.000Z');

function record(verdict: SubscriptionVerdict, overrides: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  return {
    subscriptionId: verdict.subscriptionId,
    displayName: verdict.displayName,
    state: verdict.state,
    status: verdict.status,
    failedRules: [],
    findings: verdict.findings,
    contact: verdict.contact,
    source: verdict.source,
    firstSeenAt: '2025-01-01T00:00:00.000Z',
    lastEvaluatedAt: '2025-03-10T11:30:00.000Z',
    statusSince: '2025-03-01T00:00:00.000Z',
    noncompliantSince: verdict.status === 'noncompliant' || verdict.status === 'error' ? '2025-03-01T00:00:00.000Z' : null,
    lastAlertedAt: null,
    lastEvaluatedBy: 'scan-1',
    readAt: '2025-03-10T11:30:00.000Z',
    fix: null,
    omitted: null,
    lastRemediation: null,
    ...overrides,
  };
}

const OWN_FIX: ContactFix = {
  kind: 'put',
  body: {
    properties: {
      emails: 'payments-oncall@fabrikam.io',
      phone: '+1-555-0100',
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Owner'] },
      notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'High' }],
    },
  },
  placeholderEmails: false,
  changes: ['added Owner to the notified roles'],
};

const REPAIRED: ContactRemediation = {
  at: '2025-03-10T09:00:00.000Z',
  by: 'fix by alice@fabrikam.io',
  outcome: 'fixed',
  changes: ['added Owner to the notified roles'],
};

const REFUSED: ContactRemediation = {
  at: '2025-03-10T10:00:00.000Z',
  by: 'app: event <evt-1>',
  outcome: 'failed',
  changes: [],
  reason: 'the write was refused: HTTP 403 <script>alert(1)</script> \u202Eoops',
};

function page(records: SubscriptionRecord[]): string {
  return renderOperatorPage(
    { records, runs: [], exemptions: [], undelivered: [], now: NOW },
    { rules: RULES, portalUrl: 'https://portal.azure.com' },
  ).html;
}

/** The row of a subscription in the table with this class. */
function row(html: string, tableClass: string, subscriptionId: string): string {
  const table = new RegExp(`<table class="subs ${tableClass}">([\\s\\S]*?)</table>`).exec(html)![1]!;
  return table.split('<tr').find((candidate) => candidate.includes(`<code class="sub-id">${subscriptionId}</code>`)) ?? '';
}

describe('the operator page', () => {
  it("shows a failing subscription's own command from its record's merged fix", () => {
    const html = page([record(NONCOMPLIANT_HOSTILE, { fix: OWN_FIX }), record(COMPLIANT)]);
    const failing = row(html, 'failing', NONCOMPLIANT_HOSTILE.subscriptionId);
    const command = azRestPutCommand(NONCOMPLIANT_HOSTILE.subscriptionId, OWN_FIX.body);
    expect(failing).toContain(`<pre><code>${command.replaceAll('"', '&quot;').replaceAll("'", '&#39;')}</code></pre>`);
    expect(failing).toContain('payments-oncall@fabrikam.io');
    // Without a stored fix there is no command.
    expect(row(page([record(NONCOMPLIANT_HOSTILE)]), 'failing', NONCOMPLIANT_HOSTILE.subscriptionId)).not.toContain('sub-fix');
  });

  it('notes a repair where the page lists the subscription, and a failed repair with its reason, escaped', () => {
    const html = page([
      record(COMPLIANT, { lastRemediation: REPAIRED }),
      record(NONCOMPLIANT_HOSTILE, { fix: OWN_FIX, lastRemediation: REFUSED }),
      record(UNREADABLE),
    ]);
    const repaired =
      '<span class="settings remediation remediation-fixed">Repaired automatically at <time datetime="2025-03-10T09:00:00.000Z">2025-03-10 09:00:00 UTC</time> (<bdi>fix by alice@fabrikam.io</bdi>)</span>';
    const failed =
      '<span class="settings remediation remediation-failed">Automatic repair failed at <time datetime="2025-03-10T10:00:00.000Z">2025-03-10 10:00:00 UTC</time> (<bdi>app: event &lt;evt-1&gt;</bdi>): the write was refused: HTTP 403 &lt;script&gt;alert(1)&lt;/script&gt; \uFFFDoops</span>';
    expect(row(html, 'failing', NONCOMPLIANT_HOSTILE.subscriptionId)).toContain(failed);
    expect(row(html, 'next-steps', NONCOMPLIANT_HOSTILE.subscriptionId)).toContain(failed);
    // The compliant one is listed among the other subscriptions, with its note.
    const others = html.slice(html.indexOf('id="others-title"'));
    expect(others).toContain(`<code class="sub-id">${COMPLIANT.subscriptionId}</code>${repaired}`);
    // Nothing for a record contact-watch never wrote.
    expect(row(html, 'failing', UNREADABLE.subscriptionId)).not.toContain('remediation');
    expect(html.match(/class="settings remediation /g)).toHaveLength(3);
    expect(html.match(/<script/gi)).toHaveLength(1);
    expect(html).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    expect(html).toContain(
      HOSTILE_NAME.replaceAll('&', '&amp;')
        .replaceAll('<', '&lt;')
        .replaceAll('>', '&gt;')
        .replaceAll('"', '&quot;')
        .replaceAll("'", '&#39;'),
    );
  });
});
