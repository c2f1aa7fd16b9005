/**
 * The trend over past scans for the HTTP API's report page: an inline SVG chart (no script, no
 * load) of the compliant share of each stored scan run, oldest to newest, with the counts as a
 * stacked bar per run beneath it, and the same numbers as a table (the text alternative).
 *
 * The share is the report's compliance rate (display.ts complianceRate): compliant out of judged
 * (compliant, noncompliant, error). Runs still running or failed have no counts and are not
 * plotted; the caption says how many were left out. Runs that judged nothing are plotted on the
 * count band only (no share to draw). Pure: built with the `html` tag, every value escaped.
 */
import type { ScanRunRecord } from '../core/state-model.js';
import { html, type Html } from './html-tag.js';
import { complianceRate, formatUtc } from './display.js';

export interface TrendPoint {
  scanId: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: ScanRunRecord['outcome'];
  trigger: string;
  counts: ScanRunRecord['counts'];
  judged: number;
  /** Whole percent (rounded down, as the report's rate), null when nothing was judged. */
  percent: number | null;
}

/** Plotted runs, oldest first, and how many were left out (running or failed). */
export function trendPoints(runs: readonly ScanRunRecord[]): { points: TrendPoint[]; leftOut: number } {
  const plotted = runs.filter((run) => run.outcome === 'succeeded' || run.outcome === 'partial');
  const points = [...plotted]
    .sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0))
    .map((run) => {
      const rate = complianceRate(run.counts);
      return {
        scanId: run.scanId,
        startedAt: run.startedAt,
        finishedAt: run.finishedAt,
        outcome: run.outcome,
        trigger: run.trigger,
        counts: run.counts,
        judged: rate.judged,
        percent: rate.percent,
      };
    });
  return { points, leftOut: runs.length - plotted.length };
}

// Geometry of the chart (SVG user units; it scales to the panel's width).
const WIDTH = 760;
const LEFT = 48;
const RIGHT = 16;
const SHARE_TOP = 14;
const SHARE_BOTTOM = 184;
const COUNTS_TOP = 214;
const COUNTS_BOTTOM = 264;
const HEIGHT = 292;

export function renderTrendSection(runs: readonly ScanRunRecord[]): Html {
  const { points, leftOut } = trendPoints(runs);
  const leftOutNote =
    leftOut > 0
      ? html` <span class="muted">${leftOut} run${leftOut === 1 ? '' : 's'} still running or failed ${leftOut === 1 ? 'is' : 'are'} not plotted.</span>`
      : '';
  if (points.length === 0) {
    return html`<section class="panel trend" aria-labelledby="trend-title">
  <h2 id="trend-title">Compliance over past scans</h2>
  <p class="muted">No finished scan is stored yet: the chart appears after the first scan the timer (or POST /api/scans) records.${leftOutNote}</p>
</section>`;
  }
  const description = describeTrend(points);
  return html`<section class="panel trend" aria-labelledby="trend-title">
  <style>${TREND_STYLE}</style>
  <h2 id="trend-title">Compliance over past scans <span class="pill">${points.length} run${points.length === 1 ? '' : 's'}</span></h2>
  <p class="muted trend-caption">${description}${leftOutNote}</p>
  ${chart(points, description)}
  <ul class="legend trend-legend" aria-hidden="true">
    <li><span class="swatch sw-share"></span>Compliant share (line)</li>
    <li><span class="swatch sw-compliant"></span>Compliant</li>
    <li><span class="swatch sw-noncompliant"></span>Non-compliant</li>
    <li><span class="swatch sw-error"></span>Error</li>
  </ul>
  <details class="others trend-data">
    <summary>The numbers <span class="muted">(one row per run, oldest first)</span></summary>
    <div class="table-wrap">
    <table class="subs">
      <thead><tr><th scope="col">Scan started</th><th scope="col">Trigger</th><th scope="col">Outcome</th><th scope="col" class="num">Compliant share</th><th scope="col" class="num">Compliant</th><th scope="col" class="num">Non-compliant</th><th scope="col" class="num">Error</th><th scope="col" class="num">Exempt</th><th scope="col" class="num">Skipped</th><th scope="col" class="num">Total</th></tr></thead>
      <tbody>
        ${points.map(
          (p) => html`<tr>
          <td><time datetime="${p.startedAt}">${formatUtc(p.startedAt)}</time></td>
          <td>${p.trigger}</td>
          <td>${p.outcome}</td>
          <td class="num">${p.percent === null ? 'n/a' : `${p.percent}%`}</td>
          <td class="num">${p.counts.compliant}</td>
          <td class="num">${p.counts.noncompliant}</td>
          <td class="num">${p.counts.error}</td>
          <td class="num">${p.counts.exempt}</td>
          <td class="num">${p.counts.skipped}</td>
          <td class="num">${p.counts.subscriptions}</td>
        </tr>`,
        )}
      </tbody>
    </table>
    </div>
  </details>
</section>`;
}

/** One sentence for people who cannot see the chart (also the SVG's <desc>). */
function describeTrend(points: readonly TrendPoint[]): string {
  const withShare = points.filter((p) => p.percent !== null);
  const first = withShare[0];
  const last = withShare[withShare.length - 1];
  if (first === undefined || last === undefined) return `${points.length} scan runs; none judged a subscription.`;
  const lowest = withShare.reduce((low, p) => ((p.percent ?? 0) < (low.percent ?? 0) ? p : low), first);
  if (withShare.length === 1) {
    return `One scan: ${first.percent}% compliant (${first.counts.compliant} of ${first.judged} judged) on ${formatUtc(first.startedAt)}.`;
  }
  return `Over ${points.length} scans, from ${formatUtc(first.startedAt)} to ${formatUtc(last.startedAt)}, compliance went from ${first.percent}% to ${last.percent}% (now ${last.counts.compliant} of ${last.judged} judged subscriptions); the lowest was ${lowest.percent}%.`;
}

function chart(points: readonly TrendPoint[], description: string): Html {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const step = plotWidth / points.length;
  const x = (index: number): number => LEFT + step * (index + 0.5);
  const shareY = (percent: number): number => SHARE_BOTTOM - ((SHARE_BOTTOM - SHARE_TOP) * percent) / 100;
  const maxJudged = Math.max(1, ...points.map((p) => p.judged));
  const barWidth = Math.max(1.5, Math.min(18, step * 0.6));
  const radius = points.length > 40 ? 2.5 : 3.5;

  const line = points
    .map((p, index) => (p.percent === null ? null : `${x(index).toFixed(1)},${shareY(p.percent).toFixed(1)}`))
    .filter((point): point is string => point !== null);
  const area =
    line.length > 1 ? `${LEFT + step * 0.5},${SHARE_BOTTOM} ${line.join(' ')} ${x(points.length - 1).toFixed(1)},${SHARE_BOTTOM}` : '';

  const grid = [0, 25, 50, 75, 100].map(
    (
      percent,
    ) => html`<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${shareY(percent).toFixed(1)}" y2="${shareY(percent).toFixed(1)}"></line>
    <text class="axis" x="${LEFT - 8}" y="${shareY(percent).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${percent}%</text>`,
  );

  const bars = points.map((p, index) => {
    const scale = (COUNTS_BOTTOM - COUNTS_TOP) / maxJudged;
    let top = COUNTS_BOTTOM;
    const segments = (['compliant', 'noncompliant', 'error'] as const)
      .filter((status) => p.counts[status] > 0)
      .map((status) => {
        const height = p.counts[status] * scale;
        top -= height;
        return html`<rect class="bar-${status}" x="${(x(index) - barWidth / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}"></rect>`;
      });
    return html`<g class="trend-bar"><title>${pointTitle(p)}</title>${segments}</g>`;
  });

  const dots = points.map((p, index) =>
    p.percent === null
      ? ''
      : html`<circle class="trend-point${p.outcome === 'partial' ? ' partial' : ''}" cx="${x(index).toFixed(1)}" cy="${shareY(p.percent).toFixed(1)}" r="${radius}" data-scan-id="${p.scanId}" data-percent="${p.percent}"><title>${pointTitle(p)}</title></circle>`,
  );

  const firstLabel = points[0]!;
  const lastLabel = points[points.length - 1]!;
  return html`<svg class="trend-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="trend-svg-title trend-svg-desc" preserveAspectRatio="xMidYMid meet">
    <title id="trend-svg-title">Compliant share of judged subscriptions per scan run, oldest to newest, with the counts beneath</title>
    <desc id="trend-svg-desc">${description}</desc>
    ${grid}
    ${area ? html`<polygon class="share-area" points="${area}"></polygon>` : ''}
    ${line.length > 1 ? html`<polyline class="share-line" points="${line.join(' ')}"></polyline>` : ''}
    ${dots}
    <text class="axis band-label" x="${LEFT}" y="${COUNTS_TOP - 6}">Judged subscriptions per run: compliant, non-compliant, error</text>
    <line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${COUNTS_BOTTOM}" y2="${COUNTS_BOTTOM}"></line>
    <text class="axis" x="${LEFT - 8}" y="${COUNTS_TOP}" text-anchor="end" dominant-baseline="hanging">${maxJudged}</text>
    <text class="axis" x="${LEFT - 8}" y="${COUNTS_BOTTOM}" text-anchor="end" dominant-baseline="middle">0</text>
    ${bars}
    <text class="axis" x="${LEFT}" y="${HEIGHT - 6}" text-anchor="start">${formatUtc(firstLabel.startedAt)}</text>
    ${points.length > 1 ? html`<text class="axis" x="${WIDTH - RIGHT}" y="${HEIGHT - 6}" text-anchor="end">${formatUtc(lastLabel.startedAt)}</text>` : ''}
  </svg>`;
}

function pointTitle(p: TrendPoint): string {
  const share = p.percent === null ? 'nothing judged' : `${p.percent}% compliant`;
  return `${formatUtc(p.startedAt)} (${p.trigger}, ${p.outcome}): ${share}; ${p.counts.compliant} compliant, ${p.counts.noncompliant} non-compliant, ${p.counts.error} error, ${p.counts.exempt} exempt, ${p.counts.skipped} skipped`;
}

/** Uses the page's colour variables (html.ts), so light, dark and print follow the page. */
const TREND_STYLE = html`
.trend-chart { width: 100%; height: auto; display: block; max-height: 340px; }
.trend-chart .grid { stroke: var(--border); stroke-width: 1; }
.trend-chart .axis { fill: var(--muted); font-size: 11px; }
.trend-chart .band-label { font-size: 10px; letter-spacing: .02em; }
.trend-chart .share-line { fill: none; stroke: var(--link); stroke-width: 2.2; stroke-linejoin: round; }
.trend-chart .share-area { fill: var(--link); opacity: .08; }
.trend-chart .trend-point { fill: var(--panel); stroke: var(--link); stroke-width: 2; }
.trend-chart .trend-point.partial { stroke: var(--error); }
.trend-chart .bar-compliant { fill: var(--compliant); } .trend-chart .bar-noncompliant { fill: var(--noncompliant); } .trend-chart .bar-error { fill: var(--error); }
.trend-caption { margin-top: -4px; }
.trend-legend { margin: 6px 0 10px; }
.sw-share { background: var(--link); height: 3px; vertical-align: 3px; }
.trend-data { margin-top: 6px; }
`;
