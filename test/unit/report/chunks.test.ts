import { describe, expect, it } from 'vitest';
import { chunked } from '../../../src/report/chunks.js';
import { REPORT_FORMATS, renderReport, renderReportChunks } from '../../../src/report/index.js';
import { buildReport, CONTEXT, VERDICTS } from './report-fixture.js';

describe('chunked', () => {
  it('joins pieces, in order and never split, into chunks of at least the size but the last', () => {
    const pieces = ['ab', 'cde', 'f', 'ghij', '', 'k'];
    expect([...chunked(pieces, 4)]).toEqual(['abcde', 'fghij', 'k']);
    expect([...chunked(['a long piece'], 4)]).toEqual(['a long piece']);
    expect([...chunked([], 4)]).toEqual([]);
    expect([...chunked(['abcd'], 4)]).toEqual(['abcd']);
  });

  it('reads the pieces only as chunks are taken', () => {
    let read = 0;
    function* pieces() {
      for (let i = 0; i < 10; i++) {
        read += 1;
        yield 'xx';
      }
    }
    const chunks = chunked(pieces(), 4);
    expect(chunks.next().value).toBe('xxxx');
    expect(read).toBe(2);
  });
});

describe('every report format, streamed', () => {
  const tenant = (count: number) =>
    buildReport(
      Array.from({ length: count }, (_, i) => ({
        ...VERDICTS[i % VERDICTS.length]!,
        subscriptionId: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
      })),
    );
  const large = tenant(3_000);

  it.each(REPORT_FORMATS)('%s: the chunks joined are the whole report, and no chunk is large, however large the report', (format) => {
    const chunks = [...renderReportChunks(large, format, CONTEXT)];
    expect(chunks.join('')).toBe(renderReport(large, format, CONTEXT));
    expect(chunks.length).toBeGreaterThan(format === 'markdown' ? 5 : 20);
    const largest = Math.max(...chunks.map((chunk) => chunk.length));
    // Cut after the piece that reaches the size, a chunk is at most one piece longer. The largest
    // pieces are the rules' own text (SARIF's rules with their references, the HTML page's "How to
    // fix"), which do not grow with the tenant. What matters is that no chunk reaches V8's large
    // object size (about 128 KiB), where strings skip the young generation and pile up (chunks.ts).
    expect(largest).toBeLessThan(128 * 1024);
    expect(Buffer.byteLength(chunks.reduce((a, b) => (a.length >= b.length ? a : b)))).toBeLessThan(128 * 1024);
  });
});
