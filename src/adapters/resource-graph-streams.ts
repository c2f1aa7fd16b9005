/**
 * Reads that page side by side (the subscriptions and the contacts of a scope), and the contacts of
 * a tenant over Resource Graph's tenant-scope limit, read 1,000 named subscriptions at a time while
 * the subscriptions are still being listed.
 */

/**
 * Reads that run side by side. When one fails, the others stop before their next page (a request
 * in flight is let finish, so no connection is abandoned half-read), and `settled` throws the first
 * failure once every read has ended.
 */
export class SideBySide {
  private readonly controller = new AbortController();
  private readonly reads: Promise<void>[] = [];
  private failure: { error: unknown } | undefined;

  /** Aborted when a read failed: the others request no further page. */
  get stop(): AbortSignal {
    return this.controller.signal;
  }

  run(read: (stop: AbortSignal) => Promise<unknown>): void {
    this.reads.push(
      read(this.controller.signal).then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= { error };
          this.controller.abort();
        },
      ),
    );
  }

  /** Resolves once every read has ended; throws the first failure. */
  async settled(): Promise<void> {
    await Promise.all(this.reads);
    if (this.failure) throw this.failure.error;
  }
}

/**
 * Reads a growing list of subscription ids in batches of `size`, one batch after another, as the
 * ids come: a batch is read as soon as it is full (or, once the list is `finished`, whatever is
 * left). `read` receives each batch in list order, so the batches are the same as if the whole
 * list had been chunked at once.
 */
export class GrowingBatches {
  private next = 0;
  private finished = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly ids: readonly string[],
    private readonly size: number,
    private readonly read: (batch: string[]) => Promise<void>,
  ) {}

  /** More ids were added to the list. */
  grew(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** No id will be added any more. */
  finish(): void {
    this.finished = true;
    this.grew();
  }

  /** Reads batches until the list is finished and read, or `stop` is aborted. */
  async run(stop: AbortSignal): Promise<void> {
    const onStop = () => this.grew();
    stop.addEventListener('abort', onStop);
    try {
      for (;;) {
        if (stop.aborted) return;
        const waiting = this.ids.length - this.next;
        if (waiting >= this.size || (this.finished && waiting > 0)) {
          const batch = this.ids.slice(this.next, this.next + this.size);
          this.next += batch.length;
          await this.read(batch);
        } else if (this.finished) {
          return;
        } else {
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
      }
    } finally {
      stop.removeEventListener('abort', onStop);
    }
  }
}
