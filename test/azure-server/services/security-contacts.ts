/**
 * Defender for Cloud securityContacts:
 *   GET    /subscriptions/{id}/providers/Microsoft.Security/securityContacts?api-version=…
 *   GET    /subscriptions/{id}/providers/Microsoft.Security/securityContacts/{name}?api-version=…
 *   PUT    … /securityContacts/{name}   (2020 and 2023: 201 when created, 200 when replaced; 2017: always 200)
 *   DELETE … /securityContacts/{name}   (200, or 204 when nothing was there)
 *
 * The list returns the stored items as given (any API version's shape: real 2023 answers do hold
 * old shapes), except that older API versions see newer items converted to their own shape:
 * - 2017-08-01-preview: `email` (first address), `alertNotifications` and `alertsToAdmins`
 *   "On"/"Off"; no `emails`, `notificationsByRole` or `notificationsSources`. That is why a reader
 *   must ask for 2023-12-01-preview explicitly (@azure/arm-security v5 pins 2017-08-01-preview).
 * - 2020-01-01-preview: 2023 items get `alertNotifications {state, minimalSeverity}` instead of
 *   `isEnabled` and `notificationsSources`.
 * Writes are stored in the 2023 shape and reach Resource Graph only when the tenant says
 * `indexWrites` (Resource Graph lags behind the service). A PUT answers as the REST specs'
 * SecurityContacts_Create examples do: the contact as stored, in the API version's shape, with
 * `id`, `name`, `type` and `properties` and no `etag` or `location`.
 */
import {
  GUID_PATTERN,
  invalidSubscriptionId,
  missingApiVersion,
  noRegisteredProviderFound,
  sendArmError,
  sendEmpty,
  sendJson,
  sendText,
  subscriptionNotFound,
} from '../arm-errors.js';
import type { RawContact, SimulatedSubscription } from '../tenant.js';
import type { HandlerContext } from '../types.js';

export const SECURITY_CONTACTS_API_VERSIONS = ['2023-12-01-preview', '2020-01-01-preview', '2017-08-01-preview'] as const;
type ContactsApiVersion = (typeof SECURITY_CONTACTS_API_VERSIONS)[number];

const READ_ONLY_STATES = ['disabled', 'deleted', 'expired'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isOn = (value: unknown): boolean => typeof value === 'string' && value.toLowerCase() === 'on';

function isLegacyShape(properties: Record<string, unknown>): boolean {
  return typeof properties.email === 'string' || typeof properties.alertNotifications === 'string';
}

/** A stored item as the 2017-08-01-preview API shows it. */
export function toApi2017(item: RawContact): RawContact {
  if (!isObject(item) || !isObject(item.properties) || isLegacyShape(item.properties)) return item;
  const properties = item.properties;
  const emails = typeof properties.emails === 'string' ? properties.emails : '';
  const email = emails
    .split(/[;,]/)
    .map((part) => part.trim())
    .find((part) => part !== '');
  let alertsOn = false;
  if (Array.isArray(properties.notificationsSources)) {
    alertsOn =
      properties.isEnabled !== false &&
      properties.notificationsSources.some(
        (source) => isObject(source) && typeof source.sourceType === 'string' && source.sourceType.toLowerCase() === 'alert',
      );
  } else if (isObject(properties.alertNotifications)) {
    alertsOn = isOn(properties.alertNotifications.state);
  }
  const adminsOn = isObject(properties.notificationsByRole) && isOn(properties.notificationsByRole.state);
  const legacy: Record<string, unknown> = { ...(email !== undefined ? { email } : {}) };
  if (typeof properties.phone === 'string' && properties.phone !== '') legacy.phone = properties.phone;
  legacy.alertNotifications = alertsOn ? 'On' : 'Off';
  legacy.alertsToAdmins = adminsOn ? 'On' : 'Off';
  return { id: item.id, name: item.name, type: 'Microsoft.Security/securityContacts', properties: legacy };
}

/** A stored item as the 2020-01-01-preview API shows it: 2023-shaped items are converted back. */
export function toApi2020(item: RawContact): RawContact {
  if (!isObject(item) || !isObject(item.properties)) return item;
  const properties = item.properties;
  if (!Array.isArray(properties.notificationsSources) && properties.isEnabled === undefined) return item;
  const sources = Array.isArray(properties.notificationsSources) ? properties.notificationsSources : [];
  const alert = sources.find(
    (source): source is Record<string, unknown> =>
      isObject(source) && typeof source.sourceType === 'string' && source.sourceType.toLowerCase() === 'alert',
  );
  const { notificationsSources: _sources, isEnabled, ...rest } = properties;
  return {
    ...item,
    properties: {
      ...rest,
      alertNotifications: {
        state: alert && isEnabled !== false ? 'On' : 'Off',
        minimalSeverity: alert?.minimalSeverity ?? 'High',
      },
    },
  };
}

/** Properties written with any API version, stored in the 2023-12-01-preview shape. */
export function toStoredProperties(properties: Record<string, unknown>): Record<string, unknown> {
  if (isLegacyShape(properties)) {
    const stored: Record<string, unknown> = {
      emails: typeof properties.email === 'string' ? properties.email : '',
      isEnabled: true,
      notificationsByRole: { state: isOn(properties.alertsToAdmins) ? 'On' : 'Off', roles: ['Owner'] },
      // The 2017 API had no severity: "On" meant high-severity alerts.
      notificationsSources: isOn(properties.alertNotifications) ? [{ sourceType: 'Alert', minimalSeverity: 'High' }] : [],
    };
    if (typeof properties.phone === 'string') stored.phone = properties.phone;
    return stored;
  }
  if (isObject(properties.alertNotifications)) {
    const { alertNotifications, ...rest } = properties;
    return {
      ...rest,
      isEnabled: true,
      notificationsSources: isOn(alertNotifications.state)
        ? [{ sourceType: 'Alert', minimalSeverity: alertNotifications.minimalSeverity ?? 'High' }]
        : [],
    };
  }
  return { ...properties };
}

function view(item: RawContact, apiVersion: ContactsApiVersion): RawContact {
  if (apiVersion === '2017-08-01-preview') return toApi2017(item);
  if (apiVersion === '2020-01-01-preview') return toApi2020(item);
  return item;
}

function contactName(item: RawContact): string | undefined {
  return isObject(item) && typeof item.name === 'string' ? item.name : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The checks every securityContacts call passes through, in ARM's order. Answers and returns
 * undefined when the request stops here.
 */
function admit(
  ctx: HandlerContext,
  action: 'read' | 'write' | 'delete',
): { subscription: SimulatedSubscription; apiVersion: ContactsApiVersion } | undefined {
  const { res } = ctx;
  const subscriptionId = ctx.params.subscriptionId!;
  if (!GUID_PATTERN.test(subscriptionId)) {
    invalidSubscriptionId(res, subscriptionId);
    return undefined;
  }
  const apiVersion = ctx.req.url.searchParams.get('api-version');
  ctx.log.apiVersion = apiVersion ?? undefined;
  if (!apiVersion) {
    missingApiVersion(res);
    return undefined;
  }
  if (!(SECURITY_CONTACTS_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    noRegisteredProviderFound(res, apiVersion, 'securityContacts', SECURITY_CONTACTS_API_VERSIONS);
    return undefined;
  }
  const subscription = ctx.tenant.getSubscription(subscriptionId);
  if (!subscription || subscription.quirks.notFound) {
    subscriptionNotFound(res, subscriptionId);
    return undefined;
  }
  if (subscription.quirks.forbidden || (subscription.quirks.readOnlyIdentity && action !== 'read')) {
    authorizationFailed(ctx, subscription.subscriptionId, action);
    return undefined;
  }
  if (subscription.quirks.providerNotRegistered) {
    const message =
      "The subscription is not registered to use namespace 'Microsoft.Security'. See https://aka.ms/rps-not-found for how to register subscriptions.";
    sendArmError(res, 409, 'MissingSubscriptionRegistration', message, {
      details: [{ code: 'MissingSubscriptionRegistration', message, target: 'Microsoft.Security' }],
    });
    return undefined;
  }
  if (action !== 'read' && READ_ONLY_STATES.includes(subscription.state.toLowerCase())) {
    sendArmError(
      res,
      409,
      'ReadOnlyDisabledSubscription',
      `The subscription '${subscription.subscriptionId}' is disabled and therefore marked as read only. ` +
        'You cannot perform any write actions on this subscription until it is re-enabled.',
    );
    return undefined;
  }
  return { subscription, apiVersion: apiVersion as ContactsApiVersion };
}

/** ARM's 403 when the identity's roles do not grant the action on the subscription. */
function authorizationFailed(ctx: HandlerContext, subscriptionId: string, action: 'read' | 'write' | 'delete'): void {
  const principal = ctx.identityClientId;
  sendArmError(
    ctx.res,
    403,
    'AuthorizationFailed',
    `The client '${principal}' with object id '${principal}' does not have authorization to perform action ` +
      `'Microsoft.Security/securityContacts/${action}' over scope '/subscriptions/${subscriptionId}' ` +
      'or the scope is invalid. If access was recently granted, please refresh your credentials.',
  );
}

async function delay(ctx: HandlerContext): Promise<void> {
  if (ctx.options.latency.securityContactsMs > 0) await sleep(ctx.options.latency.securityContactsMs);
}

export async function handleContactList(ctx: HandlerContext): Promise<void> {
  await delay(ctx);
  if (ctx.req.method !== 'GET') {
    sendArmError(ctx.res, 405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.req.method}'.`);
    return;
  }
  const admitted = admit(ctx, 'read');
  if (!admitted) return;
  const { subscription, apiVersion } = admitted;
  const { quirks } = subscription;

  if (quirks.invalidBody === 'not-json') {
    // A JSON content type over a body cut short: core-client's deserialization policy throws on it.
    sendText(ctx.res, 200, `{"value":[{"id":"/subscriptions/${subscription.subscriptionId}/providers/Microsoft.Security/securityCon`, {
      'content-type': 'application/json; charset=utf-8',
    });
    return;
  }
  if (quirks.invalidBody === 'wrong-types') {
    sendJson(ctx.res, 200, { value: { properties: { emails: 42 } }, nextLink: 7 });
    return;
  }

  const items = subscription.contacts.map((item) => view(item, apiVersion));
  if (quirks.bareArrayBody) {
    sendJson(ctx.res, 200, items);
    return;
  }
  const pageSize = quirks.contactsPageSize;
  if (!pageSize || pageSize <= 0) {
    sendJson(ctx.res, 200, { value: items });
    return;
  }
  const token = ctx.req.url.searchParams.get('$skipToken');
  const offset = token ? Number.parseInt(Buffer.from(token, 'base64').toString('utf8'), 10) || 0 : 0;
  const page = items.slice(offset, offset + pageSize);
  const next = offset + page.length;
  const nextLink =
    next < items.length
      ? `${ctx.url}/subscriptions/${subscription.subscriptionId}/providers/Microsoft.Security/securityContacts` +
        `?api-version=${apiVersion}&$skipToken=${encodeURIComponent(Buffer.from(String(next)).toString('base64'))}`
      : undefined;
  sendJson(ctx.res, 200, nextLink ? { value: page, nextLink } : { value: page });
}

export async function handleContactItem(ctx: HandlerContext): Promise<void> {
  await delay(ctx);
  const method = ctx.req.method;
  if (method !== 'GET' && method !== 'PUT' && method !== 'DELETE') {
    sendArmError(ctx.res, 405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
    return;
  }
  const admitted = admit(ctx, method === 'GET' ? 'read' : method === 'PUT' ? 'write' : 'delete');
  if (!admitted) return;
  const { subscription, apiVersion } = admitted;
  let name = ctx.params.name!;
  try {
    name = decodeURIComponent(name);
  } catch {
    // keep it as sent
  }
  const index = subscription.contacts.findIndex((item) => contactName(item)?.toLowerCase() === name.toLowerCase());

  if (method === 'GET') {
    if (index < 0) {
      sendArmError(
        ctx.res,
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.Security/securityContacts/${name}' under subscription '${subscription.subscriptionId}' was not found.`,
      );
      return;
    }
    sendJson(ctx.res, 200, view(subscription.contacts[index], apiVersion));
    return;
  }

  if (method === 'DELETE') {
    if (index < 0) {
      sendEmpty(ctx.res, 204);
      return;
    }
    ctx.tenant.storeContactWrite(
      subscription.subscriptionId,
      subscription.contacts.filter((_, position) => position !== index),
    );
    sendEmpty(ctx.res, 200);
    return;
  }

  // PUT
  let body: unknown;
  try {
    body = JSON.parse(ctx.req.body.toString('utf8'));
  } catch (error) {
    sendArmError(
      ctx.res,
      400,
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: ${(error as Error).message}`,
    );
    return;
  }
  if (!isObject(body) || !isObject(body.properties)) {
    sendArmError(ctx.res, 400, 'InvalidRequestContent', "The request content must be a JSON object with a 'properties' object.");
    return;
  }
  const storedName = index >= 0 ? (contactName(subscription.contacts[index]) ?? name) : name;
  const stored = {
    id: `/subscriptions/${subscription.subscriptionId}/providers/Microsoft.Security/securityContacts/${storedName}`,
    name: storedName,
    type: 'Microsoft.Security/securityContacts',
    properties: toStoredProperties(body.properties),
  };
  const contacts = [...subscription.contacts];
  if (index >= 0) contacts[index] = stored;
  else contacts.push(stored);
  ctx.tenant.storeContactWrite(subscription.subscriptionId, contacts);
  // 2017-08-01-preview knows only 200 for a PUT; 2020-01-01-preview and later say 201 for a new contact.
  const status = index < 0 && apiVersion !== '2017-08-01-preview' ? 201 : 200;
  sendJson(ctx.res, status, view(stored, apiVersion));
}
