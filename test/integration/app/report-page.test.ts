/**
 * GET /api/report (docs/reference/http-api.md): one self-contained HTML page built from what stored
 * scans left in Table Storage (runStoredScan against the local Azure test server and Azurite),
 * through the real handler with the real @azure/functions HttpRequest and InvocationContext; then
 * the page in headless Chromium (Debian `chromium` driven by playwright-core), its visible
 * numbers checked and a screenshot kept at .test-output/report-page.png for a person to look at.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverOwedAlerts } from '../../../src/app/deliver-owed-alerts.js';
import { createReportHandler } from '../../../src/app/handlers/report.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { runStoredScan } from '../../../src/scan/stored-scan.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import type { CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { startAppTestBed, type testAppDependencies, type TestTables } from '../../support/app.js';
import { compliantContact2023 } from '../../support/fixtures.js';

const PROD = '0a111111-1111-4111-8111-111111111111';
const SANDBOX = '1b222222-2222-4222-8222-222222222222';
const WEB = '2c333333-3333-4333-8333-333333333333';
const DATA = '3d444444-4444-4444-8444-444444444444';
const LOCKED = '4e555555-5555-4555-8555-555555555555';
const LAB = '5f666666-6666-4666-8666-666666666666';
const EXPIRING = '6a777777-7777-4777-8777-777777777777';
const OLD = '7b888888-8888-4888-8888-888888888888';
const SCRIPT_NAME = 'Sandbox <script>alert(1)</script>';
/** A right-to-left override would show this name as "Locked down exe.jpg"; the isolate is left open. */
const BIDI_NAME = 'Locked down \u202Egpj.exe\u2067';
const ANY_BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(fileURLToPath(new URL('../../../', import.meta.url)), '.test-output', 'report-page.png');
/** The handler's clock: two days after the exemptions were granted, so the one that ended today has expired. */
const RENDER_AT = new Date(Date.now() + 2 * 86_400_000);

let azure: LocalAzure;
let mail: CommunicationEmailService;
let tables: TestTables;
let deps: ReturnType<typeof testAppDependencies>;
let page: string;
let response: HttpResponseInit;
const runShares: number[] = [];

function day(offsetDays: number): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + offsetDays)).toISOString().slice(0, 10);
}

beforeAll(async () => {
  const tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: PROD, displayName: 'Production', contacts: [compliantContact2023()] });
  tenant.addSubscription({ subscriptionId: SANDBOX, displayName: SCRIPT_NAME, contacts: [] });
  tenant.addSubscription({ subscriptionId: WEB, displayName: 'Web shop', contacts: [] });
  tenant.addSubscription({ subscriptionId: DATA, displayName: 'Data platform', contacts: [compliantContact2023('data-team@fabrikam.io')] });
  tenant.addSubscription({ subscriptionId: LOCKED, displayName: BIDI_NAME, contacts: [] });
  tenant.addSubscription({ subscriptionId: LAB, displayName: 'Research lab', contacts: [] });
  tenant.addSubscription({ subscriptionId: EXPIRING, displayName: 'Migration', contacts: [] });
  tenant.addSubscription({ subscriptionId: OLD, displayName: 'Retired', state: 'Disabled', contacts: [] });
  ({ azure, mail, tables, deps } = await startAppTestBed(tenant, { tablePrefix: 'reporttest' }));

  await deps.store.putExemption({
    subscriptionId: LAB,
    reason: 'research tenant, no production data',
    owner: 'lab-owner@fabrikam.io',
    expiresOn: day(30),
    createdBy: 'ciso@fabrikam.io',
  });
  await deps.store.putExemption({
    subscriptionId: EXPIRING,
    reason: 'migration in progress',
    owner: 'migrations@fabrikam.io',
    expiresOn: day(0),
    createdBy: 'ciso@fabrikam.io',
  });

  const scan = async () => {
    const result = await runStoredScan(
      {},
      {
        inventory: deps.azure.inventory,
        contacts: deps.azure.contacts,
        subscriptions: deps.azure.subscriptions,
        policy: deps.settings.policy,
        store: deps.store,
        trigger: 'timer',
      },
    );
    const s = result.report.summary;
    runShares.push(Math.floor((s.compliant * 100) / (s.compliant + s.noncompliant + s.error)));
  };
  await scan(); // 2 of 5 compliant
  tenant.setContacts(WEB, [compliantContact2023('web-team@fabrikam.io')]);
  await scan(); // 3 of 5
  tenant.deleteContacts(DATA);
  await scan(); // 2 of 5
  tenant.setContacts(DATA, [compliantContact2023('data-team@fabrikam.io')]);
  azure.faults.add({ target: 'security-contacts', subscriptionId: LOCKED, status: 403, times: Infinity });
  await scan(); // 3 of 5, one error: partial

  // The digest of what is owed, which the mail service accepts and then fails.
  mail.faults.add({ kind: 'fail-delivery' });
  const delivery = await deliverOwedAlerts(
    deps,
    new InvocationContext({ invocationId: 'report-alerts', functionName: FUNCTION_NAMES.scanTimer }),
    { mode: 'digest' },
  );
  expect(delivery).toMatchObject({ sent: 0, failed: 1 });

  const handler = createReportHandler({ ...deps, clock: () => RENDER_AT });
  response = await handler(
    new HttpRequest({ method: 'GET', url: 'https://contact-watch.example.net/api/report?code=function-key' }),
    new InvocationContext({ invocationId: 'report-invocation-1', functionName: FUNCTION_NAMES.report }),
  );
  page = response.body as string;
}, 60_000);

afterAll(async () => {
  await Promise.all([azure?.close(), tables?.stop()]);
});

function header(name: string): string {
  return (response.headers as Record<string, string>)[name] ?? '';
}

describe('GET /api/report', () => {
  it('answers one HTML page that may load nothing', () => {
    expect(runShares).toEqual([40, 60, 40, 60]);
    expect(response.status).toBe(200);
    expect(header('content-type')).toBe('text/html; charset=utf-8');
    expect(header('cache-control')).toBe('no-store');
    expect(header('x-content-type-options')).toBe('nosniff');
    const csp = header('content-security-policy');
    expect(csp).toMatch(/^default-src 'none'; /);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:|\*/);
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="${csp.replace("; frame-ancestors 'none'", '')}">`);

    expect(typeof page).toBe('string');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).not.toMatch(/<(link|img|iframe|object|embed|base)\b/i);
    expect(page).not.toMatch(/\b(src|srcset|poster|background)\s*=/i);
    expect(page).not.toMatch(/url\(|@import|@font-face/i);
    expect(page.match(/<script\b[^>]*>/g)).toEqual(['<script>']);
    // Links are in-page anchors or the portal (navigation when clicked, never a load).
    for (const [, href] of page.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^(#|https:\/\/portal\.azure\.com\/)/);
  });

  it('escapes what comes from Azure', () => {
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('Sandbox &lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('shows bidirectional controls in names as U+FFFD, on the page and in the digest it sent', () => {
    expect(page).not.toMatch(ANY_BIDI_CONTROL);
    expect(page).toContain('Locked down \uFFFDgpj.exe\uFFFD');
    const [digest] = mail.messages;
    expect(digest!.plainText).toContain('Locked down \uFFFDgpj.exe\uFFFD');
    for (const text of [digest!.subject, digest!.html ?? '', digest!.plainText ?? '']) expect(text).not.toMatch(ANY_BIDI_CONTROL);
  });

  it('shows the stored state at a glance: numbers, the failing subscriptions and next steps', () => {
    const count = (status: string) =>
      new RegExp(`<li class="count c-${status}[^"]*">\\s*<span class="count-number">(\\d+)</span>`).exec(page)?.[1];
    expect([count('compliant'), count('noncompliant'), count('error'), count('exempt'), count('skipped')]).toEqual([
      '3',
      '1',
      '1',
      '2',
      '1',
    ]);
    expect(page).toMatch(/<span class="count-number">8<\/span><span class="count-label">Subscriptions<\/span>/);
    expect(page).toContain('<title>Security contacts: 60% compliant, 2 failing');
    expect(page).toContain('Partial scan.');

    const failing = page.slice(page.indexOf('id="failing-title"'), page.indexOf('id="rules-title"'));
    expect(failing).toContain('Sandbox &lt;script&gt;');
    expect(failing).toContain('Locked down');
    expect(failing).not.toContain('Production');
    expect(failing).toContain('href="#fix-contact-exists"');

    const nextSteps = page.slice(page.indexOf('id="next-steps-title"'), page.indexOf('id="exemptions-title"'));
    expect(nextSteps).toContain("Owners' next steps");
    expect(nextSteps).toContain('Sandbox &lt;script&gt;');
    expect(nextSteps).toMatch(/<a class="rule" href="#fix-contact-exists">contact-exists<\/a> \S/);
    expect(nextSteps).toContain("grant the app's identity Reader and Security Reader");
    // The service's 403 in a few words in the row, and whole one click away.
    expect(failing).toMatch(
      /<span class="message">403 AuthorizationFailed: the identity cannot read this subscription&#39;s security contacts<\/span><details class="full-answer"><summary>The service's full answer<\/summary><p class="message">403 AuthorizationFailed: [^<]{20,}<\/p><\/details>/,
    );
    // Failing since the first scan, which ran just under two days before the handler's clock.
    expect(nextSteps).toContain('1 day ago');
  });

  it('lists the exemptions with owner and expiry, the expired one marked', () => {
    const section = page.slice(page.indexOf('id="exemptions-title"'), page.indexOf('id="failing-title"'));
    expect(section).toContain('<span class="pill">1 active</span>');
    expect(section).toContain('1 expired');
    const rows = [...section.matchAll(/<tr class="(exemption-[a-z]+)">([\s\S]*?)<\/tr>/g)].map((m) => ({ kind: m[1], text: m[2]! }));
    expect(rows.map((r) => r.kind)).toEqual(['exemption-active', 'exemption-expired']);
    expect(rows[0]!.text).toContain('Research lab');
    expect(rows[0]!.text).toContain('lab-owner@fabrikam.io');
    expect(rows[0]!.text).toContain(day(30));
    expect(rows[0]!.text).toContain('28 days left');
    expect(rows[1]!.text).toContain('Migration');
    expect(rows[1]!.text).toContain(day(0));
    expect(rows[1]!.text).toContain('<span class="badge b-expired">Expired</span>');
  });

  it('lists the alert e-mail the service failed, with its channel and the command that sends it again', () => {
    const section = page.slice(page.indexOf('id="alert-messages-title"'));
    const [failed] = mail.messages;
    expect(section.slice(0, section.indexOf('</h2>'))).toContain('<span class="pill pill-expired">1 not delivered</span>');
    expect(section).toContain('<code>contact-watch requeue &lt;operation id&gt;</code>');
    const rows = [...section.slice(0, section.indexOf('</section>')).matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) =>
      m[1]!.replace(/\s+/g, ' ').trim(),
    );
    expect(rows.slice(1)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^<td><code>${failed!.operationId}</code></td> <td>e-mail</td> <td>failed</td> <td>[0-9-]+ [0-9:]+ UTC</td> <td>2</td> <td>1</td> <td class="message">EmailDropped: `,
        ),
      ),
    ]);
  });

  it('still answers when the outbox cannot be read, saying so in its place', async () => {
    const alerts = { ...deps.alerts, undelivered: () => Promise.reject(new Error('outbox table down')) };
    const context = new InvocationContext({ invocationId: 'report-invocation-2', functionName: FUNCTION_NAMES.report });
    const answer = await createReportHandler({ ...deps, alerts, clock: () => RENDER_AT })(
      new HttpRequest({ method: 'GET', url: 'https://contact-watch.example.net/api/report?code=function-key' }),
      context,
    );
    expect(answer.status).toBe(200);
    expect(answer.body as string).toContain('The alert outbox could not be read');
    expect(answer.body as string).toContain('id="failing-title"');
    expect(
      deps.lines.filter((line) => line.invocationId === 'report-invocation-2').map((line) => [line.event, line.reason]),
    ).toContainEqual(['report.outboxUnavailable', 'outbox table down']);
  });

  it('draws the trend as an accessible inline SVG with one point per stored run', () => {
    const svg = /<svg class="trend-chart"[\s\S]*?<\/svg>/.exec(page)?.[0] ?? '';
    expect(svg).toMatch(/role="img" aria-labelledby="trend-svg-title trend-svg-desc"/);
    expect(svg).toMatch(/<title id="trend-svg-title">Compliant share/);
    expect(svg).toMatch(
      /<desc id="trend-svg-desc">Over 4 scans, .* compliance went from 40% to 60% \(now 3 of 5 judged subscriptions\); the lowest was 40%\.<\/desc>/,
    );
    const points = [...svg.matchAll(/<circle class="trend-point[^"]*"[^>]*data-percent="(\d+)"/g)].map((m) => Number(m[1]));
    expect(points).toEqual(runShares);
    expect(svg.match(/<g class="trend-bar">/g)).toHaveLength(4);
    // The numbers as a table too (the text alternative), oldest first.
    const table = page.slice(page.indexOf('class="others trend-data"'));
    expect([...table.slice(0, table.indexOf('</table>')).matchAll(/<td class="num">(\d+%)<\/td>/g)].map((m) => m[1])).toEqual([
      '40%',
      '60%',
      '40%',
      '60%',
    ]);
  });

  it('renders in headless Chromium with the expected numbers, loading nothing (screenshot kept)', async (context) => {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package for the report page test`);
      console.warn(`report page browser test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);
      context.skip();
      return;
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      const problems: string[] = [];
      tab.on('request', (request) => requests.push(request.url()));
      tab.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      tab.on('pageerror', (error) => problems.push(error.message));
      await tab.setContent(page, { waitUntil: 'load' });

      expect(await tab.title()).toMatch(/^Security contacts: 60% compliant, 2 failing/);
      const numbers = await tab
        .locator('.counts .count')
        .evaluateAll((items) =>
          items.map((item) => `${item.querySelector('.count-label')?.textContent}=${item.querySelector('.count-number')?.textContent}`),
        );
      expect(numbers).toEqual(['Non-compliant=1', 'Error=1', 'Compliant=3', 'Exempt=2', 'Skipped=1', 'Subscriptions=8']);
      await expect(tab.locator('.donut-text').textContent()).resolves.toBe('60%');
      await expect(tab.locator('#failing-title + *, #failing-title').first().isVisible()).resolves.toBe(true);
      // The display name arrives as text, and no script of Azure's ran.
      await expect(tab.getByText(SCRIPT_NAME).first().isVisible()).resolves.toBe(true);
      // What the reader sees holds no bidirectional control: the name reads as written, marked where one was.
      const shown = await tab.locator('body').innerText();
      expect(shown).not.toMatch(ANY_BIDI_CONTROL);
      await expect(tab.locator('.failing .sub-name', { hasText: 'Locked down' }).first().innerText()).resolves.toBe(
        'Locked down \uFFFDgpj.exe\uFFFD',
      );
      expect(await tab.locator('svg.trend-chart circle.trend-point').count()).toBe(4);
      const chartBox = await tab.locator('svg.trend-chart').boundingBox();
      expect(chartBox?.width).toBeGreaterThan(600);
      expect(chartBox?.height).toBeGreaterThan(150);
      await expect(tab.locator('.exemption-expired .b-expired').isVisible()).resolves.toBe(true);
      // The page's own script ran under its CSP (the filter box is shown by it), and nothing was blocked or loaded.
      await expect(tab.locator('.filter').isVisible()).resolves.toBe(true);
      expect(problems).toEqual([]);
      expect(requests.filter((url) => !url.startsWith('about:') && !url.startsWith('data:'))).toEqual([]);

      await mkdir(join(SCREENSHOT, '..'), { recursive: true });
      await tab.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);

      // Opened, every code block (az commands one long line each) wraps inside its box: nothing scrolls or spills.
      await tab.locator('details').evaluateAll((all) => all.forEach((details) => details.setAttribute('open', '')));
      const blocks = await tab
        .locator('pre')
        .evaluateAll((all) =>
          all.map((pre) => ({ scroll: pre.scrollWidth, client: pre.clientWidth, visible: pre.getClientRects().length > 0 })),
        );
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks) expect(block.visible && block.scroll <= block.client, JSON.stringify(block)).toBe(true);
      expect(await tab.locator('html').evaluate((root) => root.scrollWidth)).toBeLessThanOrEqual(1280);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
