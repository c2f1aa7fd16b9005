/**
 * The alerts as a Teams card and as a webhook document (docs/reference/alerts.md): every card is
 * held to schema/teams-adaptive-card-1.5.json; text from Azure is plain text (TextRun, never a Markdown
 * TextBlock), inert and defanged as in the e-mails; a digest card stays within Teams' size with a
 * link to the report for the rest; a webhook document lists every alert, its bidirectional
 * controls as `\uXXXX` escapes, and carries its delivery id first.
 */
import { describe, expect, it } from 'vitest';
import { RULE_IDS, type Finding } from '../../../src/core/model.js';
import {
  renderTeamsDigest,
  renderTeamsSingle,
  TEAMS_DIGEST_MAX_SUBSCRIPTIONS,
  TEAMS_MESSAGE_MAX_BYTES,
} from '../../../src/alerts/teams/adaptive-card.js';
import { renderWebhookDocument, WEBHOOK_DETAIL_BYTES, withDeliveryId, type WebhookDocument } from '../../../src/alerts/webhook/document.js';
import { expectValidTeamsMessage } from '../../support/adaptive-card-schema.js';
import { alert, ctx, NOW, REPORT_URL, subscriptionId } from './owed-alert-fixture.js';

const ANY_BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

/** Every element of a card, depth first. */
function elements(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.flatMap(elements);
  if (typeof value !== 'object' || value === null) return [];
  return [value as Record<string, unknown>, ...Object.values(value).flatMap(elements)];
}

/** The text of every TextRun, and every element that would read Markdown (TextBlock, FactSet). */
function textOf(card: Record<string, unknown>): { runs: string[]; markdownElements: unknown[] } {
  const all = elements(card);
  return {
    runs: all.filter((element) => element.type === 'TextRun').map((run) => String(run.text)),
    markdownElements: all.filter((element) => element.type === 'TextBlock' || element.type === 'FactSet' || 'fallbackText' in element),
  };
}

describe('the Teams card', () => {
  it('about one subscription: what fails, since when, how to fix, the portal, as a valid Adaptive Card 1.5', () => {
    const message = renderTeamsSingle(alert(1), ctx);
    const card = expectValidTeamsMessage(message.body);
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' });
    const text = textOf(card).runs.join('\n');
    expect(message.subject).toBe(`[contact-watch] Subscription "Payments 1" (${subscriptionId(1)}) has no valid security contact`);
    for (const expected of [
      'Subscription "Payments 1"',
      subscriptionId(1),
      'non-compliant for 3 days',
      'admin@contoso.com is on a placeholder domain',
      'role notifications are off',
      'How to fix',
      'az rest --method put',
    ]) {
      expect(text).toContain(expected);
    }
    const actions = (card.actions as { title: string; url: string }[]).map((action) => action.url);
    expect(actions).toEqual([
      `https://portal.azure.com/#resource/subscriptions/${subscriptionId(1)}/overview`,
      expect.stringContaining('EnvironmentSettings'),
      REPORT_URL,
    ]);
  });

  it('keeps text from Azure plain: only in TextRuns, never Markdown, links and bidirectional controls defused', () => {
    const lure = alert(2, {
      displayName: '[Reset your password](https://evil.example/login) **now** \u202Egpj.exe',
      findings: [{ ruleId: 'email-configured', result: 'fail', message: 'Not valid: "www.evil.example" _x_ <b>' }],
    });
    for (const [message, listsMessages] of [
      [renderTeamsSingle(lure, ctx), true],
      [renderTeamsDigest([lure, alert(3)], ctx), false],
    ] as const) {
      const card = expectValidTeamsMessage(message.body);
      const { runs, markdownElements } = textOf(card);
      expect(markdownElements).toEqual([]);
      const text = runs.join('\n');
      expect(text).not.toMatch(ANY_BIDI_CONTROL);
      expect(message.body).not.toMatch(ANY_BIDI_CONTROL);
      expect(text).not.toMatch(/https:\/\/evil|www\.evil/);
      expect(text).toContain('[Reset your password](https[://]evil.example/login) **now** \uFFFDgpj.exe');
      // A digest's rows name the failed rules; a single card quotes their messages.
      if (listsMessages) expect(text).toContain('www[.]evil.example');
      // No link leads anywhere but the portal and the report page.
      const urls = elements(card)
        .filter((element) => typeof element.url === 'string')
        .map((element) => String(element.url));
      expect(urls.every((url) => url.startsWith('https://portal.azure.com/') || url === REPORT_URL)).toBe(true);
    }
  });

  it('a digest names up to its limit within 28 KB and links to the report for the rest', () => {
    const backlog = Array.from({ length: 600 }, (_, i) =>
      alert(i, { displayName: `Landing zone ${i} ${'with a long display name '.repeat(i % 5)}`.trim() }),
    );
    const message = renderTeamsDigest(backlog, ctx);
    expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(TEAMS_MESSAGE_MAX_BYTES);
    const card = expectValidTeamsMessage(message.body);
    const listed = elements(card).filter((element) => element.type === 'Container');
    expect(listed.length).toBeGreaterThan(5);
    expect(listed.length).toBeLessThanOrEqual(TEAMS_DIGEST_MAX_SUBSCRIPTIONS);
    const text = textOf(card).runs.join('\n');
    expect(text).toContain(`… and ${600 - listed.length} more subscriptions`);
    expect(message.subject).toBe('[contact-watch] 600 Azure subscriptions without a valid security contact (600 new)');
    expect((card.actions as { title: string; url: string }[])[0]).toEqual({
      type: 'Action.OpenUrl',
      title: 'Open the report',
      url: REPORT_URL,
    });
  });

  it('a digest of long values from Azure still fits: each listed subscription is cut, and fewer are listed', () => {
    const huge = Array.from({ length: 40 }, (_, i) =>
      alert(i, {
        displayName: `${'Ω'.repeat(2000)} ${i}`,
        findings: RULE_IDS.map((ruleId): Finding => ({ ruleId, result: 'error', message: `403 ${'x'.repeat(3000)}` })),
        status: 'error',
      }),
    );
    const message = renderTeamsDigest(huge, { ...ctx, reportUrl: undefined });
    expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(TEAMS_MESSAGE_MAX_BYTES);
    const card = expectValidTeamsMessage(message.body);
    expect(textOf(card).runs.join('\n')).toContain("The contact-watch report lists every one (the app's /api/report page");
  });

  it('numbers a part of a backlog split into several digests', () => {
    expect(renderTeamsDigest([alert(1)], ctx, { index: 2, total: 3 }).subject).toMatch(/\(part 2 of 3\)$/);
  });
});

describe('the webhook document', () => {
  it('lists every alert of a digest with its findings, the counts and the report', () => {
    const unreadable = alert(9, {
      status: 'error',
      findings: RULE_IDS.map((ruleId): Finding => ({ ruleId, result: 'error', message: '403 AuthorizationFailed' })),
    });
    const rendered = renderWebhookDocument([alert(1), unreadable], 'digest', ctx, { index: 1, total: 1 });
    const document = JSON.parse(rendered.body) as WebhookDocument;
    expect(document).toMatchObject({
      schemaVersion: 1,
      source: 'contact-watch',
      mode: 'digest',
      subject: rendered.subject,
      composedAt: NOW.toISOString(),
      part: { index: 1, total: 1 },
      reportUrl: REPORT_URL,
      counts: { noncompliant: 1, unreadable: 1, fixed: 0, repaired: 0 },
      findingsOmitted: 0,
    });
    expect(document.alerts.map((entry) => entry.subscriptionId)).toEqual([subscriptionId(1), subscriptionId(9)]);
    expect(document.alerts[0]).toEqual({
      key: alert(1).key,
      kind: 'alert',
      subscriptionId: subscriptionId(1),
      displayName: 'Payments 1',
      status: 'noncompliant',
      since: '2025-03-07T12:00:00.000Z',
      portalUrl: `https://portal.azure.com/#resource/subscriptions/${subscriptionId(1)}/overview`,
      findings: alert(1).findings,
    });
  });

  it('keeps values from Azure exact, each bidirectional control written as a \\u escape', () => {
    const lure = alert(2, { displayName: 'Payroll \u202Egpj.exe [x](https://evil.example)' });
    const rendered = renderWebhookDocument([lure], 'single', ctx);
    expect(rendered.body).not.toMatch(ANY_BIDI_CONTROL);
    expect(rendered.body).toContain('Payroll \\u202egpj.exe');
    expect((JSON.parse(rendered.body) as WebhookDocument).alerts[0]!.displayName).toBe(lure.displayName);
    expect(JSON.parse(rendered.body)).toMatchObject({ mode: 'single', subject: expect.stringContaining('has no valid security contact') });
  });

  it('stays bounded for a large backlog: the findings of the alerts past its detail budget are left out and counted', () => {
    const backlog = Array.from({ length: 2000 }, (_, i) =>
      alert(i, { findings: [{ ruleId: 'email-configured', result: 'fail', message: `${'m'.repeat(400)} ${i}` }] }),
    );
    const document = JSON.parse(renderWebhookDocument(backlog, 'digest', ctx).body) as WebhookDocument;
    expect(document.alerts).toHaveLength(2000);
    const detailed = document.alerts.filter((entry) => entry.findings);
    expect(document.findingsOmitted).toBe(2000 - detailed.length);
    expect(document.findingsOmitted).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify(detailed))).toBeLessThanOrEqual(WEBHOOK_DETAIL_BYTES + 2000);
  });

  it('carries its delivery id first, as part of the body that is signed', () => {
    const body = renderWebhookDocument([alert(1)], 'single', ctx).body;
    const sent = withDeliveryId(body, '0d5f2f5e-9f53-5c39-8f3e-3f5d2e1c0b9a');
    expect(sent.startsWith('{"deliveryId":"0d5f2f5e-9f53-5c39-8f3e-3f5d2e1c0b9a","schemaVersion":1,')).toBe(true);
    expect(JSON.parse(sent)).toEqual({ deliveryId: '0d5f2f5e-9f53-5c39-8f3e-3f5d2e1c0b9a', ...JSON.parse(body) });
    expect(withDeliveryId('{}', 'x')).toBe('{"deliveryId":"x"}');
  });
});
