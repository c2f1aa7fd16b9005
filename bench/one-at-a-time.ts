/**
 * What the peers' scripts do (`az account list`, then `az security contact list` per
 * subscription): list the subscriptions through ARM, then one securityContacts call per
 * subscription, one at a time. Run as its own process by bench.ts, with the same adapters and
 * the same local Azure test server as the scan it is compared with.
 */
import { createAzureAdapters } from '../src/compose/azure.js';

const { subscriptions, contacts } = createAzureAdapters(process.env);
let unreadable = 0;
for (const subscription of await subscriptions.listSubscriptions()) {
  const read = await contacts.listContacts(subscription.subscriptionId);
  if (read.kind === 'unreadable') unreadable += 1;
}
if (unreadable > 0) process.stderr.write(`${unreadable} subscription(s) could not be read\n`);
