/**
 * How far the contacts query has come, subscription by subscription. The query is ordered by
 * resource id (resource-graph-query.ts), and a contact's id begins with its subscription's, so in
 * an answer that keeps that order a row of a later subscription means every row of the earlier
 * ones has come: a scan need not wait for the last page to know that a subscription has no
 * contact row.
 *
 * The order is Resource Graph's to keep, not ours to assume: it is checked row by row, and the
 * first row out of order ends what this says for the rest of the read. A server that ignores
 * `order by`, or ids whose case differs from row to row, leave the scan waiting for the end of the
 * query instead, as if the rows were not ordered; a page is checked whole before anything is said
 * of it, so such an answer is caught before it is acted on.
 */
export class ContactRowOrder {
  private last: string | undefined;
  private inOrder = true;

  /** A row of this subscription (lower-case id) was handed over. */
  saw(subscriptionId: string): void {
    if (!this.inOrder) return;
    if (this.last !== undefined && subscriptionId < this.last) this.inOrder = false;
    else this.last = subscriptionId;
  }

  /**
   * The subscription whose rows are still coming: every subscription whose id sorts before it has
   * had all its rows. Undefined before the first row, and for good once a row came out of order.
   */
  completeBefore(): string | undefined {
    return this.inOrder ? this.last : undefined;
  }
}
