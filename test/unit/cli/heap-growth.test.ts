import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapGrowthLimiter, LARGE_SCAN_SUBSCRIPTIONS, limitingHeapGrowth } from '../../../src/cli/heap-growth.js';
import type { ScanProgress } from '../../../src/scan/scan.js';

const progress = (subscriptions: number): ScanProgress => ({ phase: 'inventory', subscriptions, toConfirm: 0, confirmed: 0 });

describe('heapGrowthLimiter', () => {
  it('leaves a scan of up to LARGE_SCAN_SUBSCRIPTIONS alone, and limits the growth of a larger one once, with a full collection', () => {
    const calls: string[] = [];
    const limit = heapGrowthLimiter({ setV8Flags: (flags) => calls.push(flags), collectGarbage: () => calls.push('collect') });

    limit(progress(0));
    limit(progress(LARGE_SCAN_SUBSCRIPTIONS));
    expect(calls).toEqual([]);
    limit(progress(LARGE_SCAN_SUBSCRIPTIONS + 1));
    limit(progress(50_000));
    limit({ ...progress(50_000), phase: 'done' });
    expect(calls).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`, 'collect']);
  });

  it('limitingHeapGrowth hands each update to the listener first, then to the limiter', () => {
    const seen: string[] = [];
    const listener = limitingHeapGrowth(
      (update) => seen.push(`listener ${update.subscriptions}`),
      (update) => seen.push(`limit ${update.subscriptions}`),
    );
    listener(progress(1));
    listener(progress(2));
    expect(seen).toEqual(['listener 1', 'limit 1', 'listener 2', 'limit 2']);
  });

  it('lets the scan go on when the flags cannot be set or the collection cannot be made', () => {
    const limit = heapGrowthLimiter({
      setV8Flags: () => undefined,
      collectGarbage: () => {
        throw new TypeError('gc is not a function');
      },
    });
    expect(() => limit(progress(LARGE_SCAN_SUBSCRIPTIONS + 1))).not.toThrow();
  });

  it('sets a flag this V8 knows, and makes a full collection, in a process started without --expose-gc', () => {
    // In a child process: V8 flags are the whole process's, and this one's must stay as they are.
    const source = fileURLToPath(new URL('../../../src/cli/heap-growth.ts', import.meta.url));
    const script = `
      import { PerformanceObserver, constants } from 'node:perf_hooks';
      const { heapGrowthLimiter } = await import(${JSON.stringify(source)});
      const kinds = [];
      new PerformanceObserver((list) => kinds.push(...list.getEntries().map((entry) => entry.detail.kind))).observe({ entryTypes: ['gc'] });
      heapGrowthLimiter()({ phase: 'inventory', subscriptions: ${LARGE_SCAN_SUBSCRIPTIONS + 1}, toConfirm: 0, confirmed: 0 });
      setTimeout(() => console.log(JSON.stringify({ major: kinds.includes(constants.NODE_PERFORMANCE_GC_MAJOR), gcGlobal: typeof globalThis.gc })), 50);
    `;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ major: true, gcGlobal: 'undefined' });
    expect(execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' })).toMatch(/^\s*--heap-growing-percent\b/m);
  });
});
