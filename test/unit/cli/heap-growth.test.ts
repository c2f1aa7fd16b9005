import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapGrowthLimiter, LARGE_SCAN_SUBSCRIPTIONS } from '../../../src/cli/heap-growth.js';
import type { ScanProgress } from '../../../src/scan/scan.js';

const progress = (subscriptions: number): ScanProgress => ({ phase: 'inventory', subscriptions, toConfirm: 0, confirmed: 0 });

describe('heapGrowthLimiter', () => {
  it('leaves a scan of up to LARGE_SCAN_SUBSCRIPTIONS alone, and limits the growth of a larger one once', () => {
    const flags: string[] = [];
    const limit = heapGrowthLimiter((set) => flags.push(set));

    limit(progress(0));
    limit(progress(LARGE_SCAN_SUBSCRIPTIONS));
    expect(flags).toEqual([]);
    limit(progress(LARGE_SCAN_SUBSCRIPTIONS + 1));
    limit(progress(50_000));
    limit({ ...progress(50_000), phase: 'done' });
    expect(flags).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  });

  it('names a flag this V8 knows', async () => {
    const { execFileSync } = await import('node:child_process');
    const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    expect(options).toMatch(/^\s*--heap-growing-percent\b/m);
  });
});
