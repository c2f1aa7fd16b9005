/**
 * How far the contacts query has come, subscription by subscription. The query is ordered by
 * resource id (resource-graph-query.ts), and a contact's id begins with its subscription's, so in
 * an answer that keeps that order a row of a later subscription means every row of the earlier
 * ones has come: a scan need not wait for the last page to know that a subscription has no
 * contact row.
 *
 * The order is Resource Graph's to keep, not ours to assume, and it is the order of the ids as the
 * service compares them: each row is checked as it comes, and the first that is out of subscription
 * order, or whose id does not begin with `/subscriptions/<its subscription id>/` in lower case (so
 * that its place among the ids may not be its subscription's place), ends what this says for the
 * rest of the read. A page is checked whole before anything is said of it, so a server that ignores
 * `order by` is caught on its first page. What a page said before a later one broke the order
 * stands: it can only have made the scan read a subscription from the securityContacts API that
 * Resource Graph would have settled.
 */
export class ContactRowOrder {
  private last: string | undefined;
  private inOrder = true;

  /** A contact row was handed over: its resource id as Resource Graph gave it, and its subscription (lower-case id). */
  saw(id: string, subscriptionId: string): void {
    if (!this.inOrder) return;
    const inItsSubscription = id.startsWith(`/subscriptions/${subscriptionId}/`);
    if (!inItsSubscription || (this.last !== undefined && subscriptionId < this.last)) this.inOrder = false;
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
