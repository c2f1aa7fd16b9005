/**
 * The contacts of a tenant over Resource Graph's tenant-scope limit are read in batches as the
 * subscriptions are listed (GrowingBatches), and reads side by side stop together (SideBySide).
 */
import { describe, expect, it } from 'vitest';
import { GrowingBatches, SideBySide } from '../../../src/adapters/resource-graph-streams.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, n) => `id-${from + n}`);

describe('GrowingBatches', () => {
  it('reads each batch as soon as it is full, the rest once the list is finished, in list order', async () => {
    const list: string[] = [];
    const read: string[][] = [];
    const batches = new GrowingBatches(list, 3, async (batch) => {
      read.push(batch);
    });
    const running = batches.run(new AbortController().signal);
    list.push(...ids(0, 2));
    batches.grew();
    await turn();
    expect(read).toEqual([]); // not full yet
    list.push(...ids(2, 7));
    batches.grew();
    await turn();
    expect(read).toEqual([ids(0, 3), ids(3, 6)]);
    batches.finish();
    await running;
    expect(read).toEqual([ids(0, 3), ids(3, 6), ids(6, 7)]);
  });

  it('reads one batch at a time', async () => {
    const list = ids(0, 6);
    let inFlight = 0;
    let most = 0;
    const batches = new GrowingBatches(list, 2, async () => {
      most = Math.max(most, (inFlight += 1));
      await turn();
      inFlight -= 1;
    });
    batches.finish();
    await batches.run(new AbortController().signal);
    expect(most).toBe(1);
  });

  it('ends, reading nothing more, when stopped while it waits for ids', async () => {
    const list = ids(0, 1);
    const read: string[][] = [];
    const stop = new AbortController();
    const batches = new GrowingBatches(list, 2, async (batch) => {
      read.push(batch);
    });
    const running = batches.run(stop.signal);
    await turn();
    stop.abort();
    await running;
    expect(read).toEqual([]);
  });
});

describe('SideBySide', () => {
  it('stops the other reads before their next page when one fails, and throws its error once all have ended', async () => {
    const reads = new SideBySide();
    const pages: number[] = [];
    let ended = false;
    reads.run(async (stop) => {
      for (let page = 1; page <= 5 && !stop.aborted; page += 1) {
        pages.push(page);
        await turn();
      }
      ended = true;
    });
    reads.run(async () => {
      await turn();
      throw new Error('503 ServiceUnavailable');
    });
    await expect(reads.settled()).rejects.toThrow('503 ServiceUnavailable');
    expect(ended).toBe(true);
    expect(pages.length).toBeLessThan(5);
  });
});
