/**
 * ARM Subscriptions: `GET /subscriptions` (paged with an absolute nextLink) and
 * `GET /subscriptions/{subscriptionId}`.
 */
import {
  GUID_PATTERN,
  invalidApiVersion,
  invalidSubscriptionId,
  missingApiVersion,
  sendJson,
  subscriptionNotFound,
} from '../arm-errors.js';
import type { SimulatedSubscription } from '../tenant.js';
import type { HandlerContext } from '../types.js';

export const SUBSCRIPTIONS_API_VERSIONS = [
  '2022-12-01',
  '2021-01-01',
  '2020-01-01',
  '2019-11-01',
  '2019-06-01',
  '2018-06-01',
  '2016-06-01',
] as const;

function subscriptionBody(subscription: SimulatedSubscription): unknown {
  return {
    id: `/subscriptions/${subscription.subscriptionId}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    tags: subscription.tags,
    subscriptionId: subscription.subscriptionId,
    tenantId: subscription.tenantId,
    displayName: subscription.displayName,
    state: subscription.state,
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: 'PayAsYouGo_2014-09-01',
      spendingLimit: 'Off',
    },
  };
}

function checkApiVersion(ctx: HandlerContext): boolean {
  const apiVersion = ctx.req.url.searchParams.get('api-version');
  ctx.log.apiVersion = apiVersion ?? undefined;
  if (!apiVersion) {
    missingApiVersion(ctx.res);
    return false;
  }
  if (!(SUBSCRIPTIONS_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    invalidApiVersion(ctx.res, apiVersion, SUBSCRIPTIONS_API_VERSIONS);
    return false;
  }
  return true;
}

export function handleSubscriptionList(ctx: HandlerContext): void {
  if (!checkApiVersion(ctx)) return;
  const all = ctx.tenant.listSubscriptions();
  const pageSize = ctx.options.subscriptionsPageSize;
  const token = ctx.req.url.searchParams.get('$skiptoken');
  const offset = token ? Number.parseInt(Buffer.from(token, 'base64url').toString('utf8'), 10) || 0 : 0;
  const page = all.slice(offset, offset + pageSize);
  const next = offset + page.length;
  const apiVersion = ctx.req.url.searchParams.get('api-version')!;
  sendJson(ctx.res, 200, {
    value: page.map(subscriptionBody),
    ...(next < all.length
      ? {
          nextLink: `${ctx.url}/subscriptions?api-version=${apiVersion}&$skiptoken=${Buffer.from(String(next)).toString('base64url')}`,
        }
      : {}),
  });
}

export function handleSubscriptionGet(ctx: HandlerContext): void {
  const subscriptionId = ctx.params.subscriptionId!;
  if (!GUID_PATTERN.test(subscriptionId)) {
    invalidSubscriptionId(ctx.res, subscriptionId);
    return;
  }
  if (!checkApiVersion(ctx)) return;
  const subscription = ctx.tenant.getSubscription(subscriptionId);
  if (!subscription || subscription.quirks.notFound) {
    subscriptionNotFound(ctx.res, subscriptionId);
    return;
  }
  sendJson(ctx.res, 200, subscriptionBody(subscription));
}
