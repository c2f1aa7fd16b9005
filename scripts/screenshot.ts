/**
 * `npm run screenshot`: the README's picture of the report page, docs/images/report-page.png.
 *
 * Runs the demo (scripts/demo.ts: the simulated tenant, scanned by the real command line) for its
 * report page, opens the page in headless Chromium (Debian's `chromium` package, driven by
 * playwright-core, as the report page's browser test does) in light mode, and keeps the first
 * screen of a 1280-pixel-wide window: the scan, compliance at a glance and the first failing
 * subscriptions. The test suite does not use it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { runDemo } from './demo.js';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../docs/images/report-page.png', import.meta.url));
const VIEWPORT = { width: 1280, height: 1000 };
/** A README image should not weigh much more than this. */
const SIZE_BUDGET = 300 * 1024;

if (!existsSync(CHROMIUM)) {
  process.stderr.write(
    `screenshot: Chromium is needed at ${CHROMIUM} to take the picture.\n` +
      'Install it (Debian or Ubuntu): sudo apt-get install chromium\n',
  );
  process.exit(1);
}

process.stderr.write('screenshot: running the demo for its report page…\n');
const demo = await runDemo({ quiet: true });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
let png: Buffer;
try {
  const tab = await browser.newPage({ viewport: VIEWPORT, colorScheme: 'light', deviceScaleFactor: 1 });
  await tab.setContent(await readFile(demo.reportPage, 'utf8'), { waitUntil: 'load' });
  png = await tab.screenshot({ type: 'png' });
} finally {
  await browser.close();
}
await mkdir(dirname(OUTPUT), { recursive: true });
await writeFile(OUTPUT, png);
const kilobytes = Math.round(png.length / 1024);
process.stderr.write(
  `screenshot: ${relative(process.cwd(), OUTPUT)} (${VIEWPORT.width}×${VIEWPORT.height}, ${kilobytes} KB)` +
    `${png.length > SIZE_BUDGET ? `; more than the ${SIZE_BUDGET / 1024} KB a README image should weigh` : ''}\n`,
);
// The Azurite the demo borrowed lives until the process ends.
process.exit(0);
