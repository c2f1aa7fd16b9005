/**
 * What people read, byte for byte: the HTML report, the other report formats, the operator page
 * and the alert e-mails, rendered from fixed inputs. The main page, report and messages are
 * compared with the files under expected/, where a change reads as a diff; their variants with
 * the SHA-256 of what was rendered before (__snapshots__). A change to either is a change in what
 * people see: review it as such (`vitest -u` rewrites them).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OutboxMessage } from '../../../src/alerts/ports.js';
import { composeDigests, renderDigest, renderSingle, type RenderedEmail, type TemplateContext } from '../../../src/alerts/templates.js';
import { PORTAL_URLS } from '../../../src/core/azure-portal.js';
import { RULES } from '../../../src/core/rules/index.js';
import { securityContactRestBody } from '../../../src/core/rules/remediation.js';
import type { Exemption, ScanRunRecord, SubscriptionRecord } from '../../../src/core/state-model.js';
import { renderReport, REPORT_FORMATS, renderVerdict } from '../../../src/report/index.js';
import { renderOperatorPage } from '../../../src/report/operator-page.js';
import { buildReport, COMPLIANT, CONTEXT, NO_CONTACT, NONCOMPLIANT_HOSTILE, REPORT, SKIPPED } from '../report/report-fixture.js';
import { ALERTS, backlog, EXEMPTIONS, NOW, RECORDS, RENDER_AT, RUNS, UNDELIVERED } from './inputs.js';

const expected = (name: string) => `./expected/${name}`;

/** The SHA-256 and length of a rendering too close to another to keep whole. */
const fingerprint = (text: unknown) =>
  `sha256:${createHash('sha256').update(String(text)).digest('hex')} (${String(text).length} characters)`;

describe('the report formats', () => {
  it('html', async () => {
    await expect(renderReport(REPORT, 'html', CONTEXT)).toMatchFileSnapshot(expected('report.html'));
  });

  it.each(REPORT_FORMATS.filter((format) => format !== 'html'))('%s', (format) => {
    expect(fingerprint(renderReport(REPORT, format, CONTEXT))).toMatchSnapshot();
  });

  it('html in another cloud, and with nothing failing or nothing found', () => {
    expect(fingerprint(renderReport(REPORT, 'html', { ...CONTEXT, portalUrl: 'https://portal.azure.us/' }))).toMatchSnapshot();
    expect(fingerprint(renderReport(buildReport([COMPLIANT, SKIPPED]), 'html', CONTEXT))).toMatchSnapshot();
    expect(fingerprint(renderReport(buildReport([]), 'html', CONTEXT))).toMatchSnapshot();
  });

  it('the check view', () => {
    const verdicts = [
      {
        ...NONCOMPLIANT_HOSTILE,
        fix: { kind: 'put' as const, body: securityContactRestBody("o'brien@fabrikam.io"), placeholderEmails: true, changes: [] },
      },
      NO_CONTACT,
    ];
    expect(fingerprint(verdicts.map((verdict) => renderVerdict(verdict, 'table', CONTEXT)).join('\n----\n'))).toMatchSnapshot();
  });
});

function operatorPage(
  records: SubscriptionRecord[],
  runs: ScanRunRecord[],
  exemptions: Exemption[],
  undelivered: OutboxMessage[] | undefined,
) {
  return renderOperatorPage(
    { records, runs, exemptions, undelivered, now: RENDER_AT },
    { rules: RULES, portalUrl: 'https://portal.azure.com' },
  );
}

describe('the operator page', () => {
  it('with every section', async () => {
    const page = operatorPage(RECORDS, RUNS, EXEMPTIONS, UNDELIVERED);
    await expect(page.html).toMatchFileSnapshot(expected('operator-page.html'));
    // As GET /api/report sends it.
    expect(`${page.contentSecurityPolicy}; frame-ancestors 'none'`).toMatchSnapshot();
    expect(page.subscriptions).toBe(RECORDS.length - 1);
  });

  it('with nothing to show', () => {
    expect(fingerprint(operatorPage([RECORDS[0]!], [], [], []).html)).toMatchSnapshot();
  });

  it('without the outbox, and with e-mails only waiting', () => {
    expect(fingerprint(operatorPage(RECORDS, RUNS.slice(1), [], undefined).html)).toMatchSnapshot();
    expect(fingerprint(operatorPage(RECORDS, RUNS, EXEMPTIONS.slice(0, 1), UNDELIVERED.slice(0, 1)).html)).toMatchSnapshot();
  });
});

/** What the e-mail adapter puts in every message's context. */
const ctx: TemplateContext = {
  portalUrl: PORTAL_URLS.AzureCloud,
  now: NOW,
  reportUrl: 'https://contact-watch.fabrikam.net/api/report',
};

function document(emails: readonly RenderedEmail[]): string {
  return emails.map((email) => `=== subject\n${email.subject}\n=== html\n${email.html}\n=== plain text\n${email.plainText}\n`).join('\n');
}

describe('the alert e-mails', () => {
  it('one per subscription, for every kind, status and fix', async () => {
    await expect(document(Object.values(ALERTS).map((alert) => renderSingle(alert, ctx)))).toMatchFileSnapshot(expected('single.eml.txt'));
  });

  it('without the team or the report page, and with a bare portal host', () => {
    const bare: TemplateContext = { portalUrl: 'portal.azure.cn', now: NOW, reportUrl: 'https://user:secret@contact-watch.fabrikam.net/' };
    expect(
      fingerprint(document([ALERTS.put!, ALERTS.placeholder!, ALERTS.unreadable!].map((alert) => renderSingle(alert, bare)))),
    ).toMatchSnapshot();
  });

  it('a digest of every kind', async () => {
    await expect(document([renderDigest(Object.values(ALERTS), ctx)])).toMatchFileSnapshot(expected('digest.eml.txt'));
  });

  it('a digest summarised to a small size, with and without the report page, and a backlog split in parts', async () => {
    await expect(document([renderDigest(backlog(300), ctx, undefined, 30_000)])).toMatchFileSnapshot(expected('digest-summarised.eml.txt'));
    expect(fingerprint(document([renderDigest(backlog(40), { ...ctx, reportUrl: undefined }, undefined, 20_000)]))).toMatchSnapshot();
    const parts = composeDigests(backlog(12), ctx, { maxSubscriptionsPerMessage: 5, maxMessageBytes: 96 * 1024 });
    expect(fingerprint(document(parts.map((part) => part.email)))).toMatchSnapshot();
  });
});
