/**
 * Keeps the heap of a large scan near what the scan holds. What a scan keeps is small (about 45 MB
 * of live heap at 50,000 subscriptions, most of it code), but it makes garbage fast: every
 * securityContacts read in flight outlives a few young-generation collections and is promoted, and
 * each Resource Graph page is a megabyte of text. V8 sizes the heap from how fast it collects
 * against how fast the program allocates, and lets a busy process's heap grow to several times
 * what survives a full collection, so a scan of 50,000 subscriptions reached 250-290 MB of
 * resident memory, most of it garbage waiting for a collection.
 *
 * Past LARGE_SCAN_SUBSCRIPTIONS the growth is held to HEAP_GROWING_PERCENT over what survives:
 * more full collections (a few per cent more CPU time), a heap that stays near its live size. V8
 * applies a growth limit from its next full collection, which a busy heap reaches only tens of
 * megabytes later, so one is made at once. A smaller scan ends before its garbage matters, and is
 * left V8's faster default. This limits growth, it is not a cap: a heap that must hold more still
 * can. The flags are the whole process's: this runs from the commands that scan (`scan`, `fix`),
 * whose process ends with them.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ScanProgress } from '../scan/scan.js';

/** Subscriptions past which a scan holds its heap in: Resource Graph's tenant-scope limit, beyond which a scan lasts tens of seconds. */
export const LARGE_SCAN_SUBSCRIPTIONS = 10_000;
/** How far V8 may grow the heap past what survives a full collection, in per cent. */
export const HEAP_GROWING_PERCENT = 25;

export interface HeapControls {
  /** v8.setFlagsFromString. */
  setV8Flags(flags: string): void;
  /** A full garbage collection, now. */
  collectGarbage(): void;
}

const V8_HEAP: HeapControls = {
  setV8Flags: setFlagsFromString,
  collectGarbage() {
    // The one way to a full collection without starting Node with --expose-gc: the flag, set now,
    // gives each new context a `gc` function.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  },
};

/** A progress listener that holds the heap in once the scan has listed more than LARGE_SCAN_SUBSCRIPTIONS. */
export function heapGrowthLimiter(heap: HeapControls = V8_HEAP): (progress: ScanProgress) => void {
  let limited = false;
  return (progress) => {
    if (limited || progress.subscriptions <= LARGE_SCAN_SUBSCRIPTIONS) return;
    limited = true;
    try {
      heap.setV8Flags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
      heap.collectGarbage();
    } catch {
      // A Node whose V8 takes neither at run time scans with more memory, not at all.
    }
  };
}

/** `listener`, then the heap held in once the scan is large: the progress listener of every command that scans. */
export function limitingHeapGrowth(
  listener: (progress: ScanProgress) => void,
  limit: (progress: ScanProgress) => void = heapGrowthLimiter(),
): (progress: ScanProgress) => void {
  return (progress) => {
    listener(progress);
    limit(progress);
  };
}
