/**
 * parseContactWatchEvent (docs/reference/events.md): the real Microsoft.Resources event examples of both
 * schemas, adapted to securityContacts writes and deletes; the vending pipeline's
 * SubscriptionCreated in both schemas; and everything that is not one of them.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES, MAX_EVENT_CLOCK_SKEW_MINUTES, measureJson, parseContactWatchEvent } from '../../../src/app/events.js';
import { azureExample } from '../../support/fixtures.js';

const SUBSCRIPTION = 'e2283d0f-acad-4904-b803-627dd74cc072'; // subscription/2021-10-01/createAlias.json
const OTHER_SUBSCRIPTION = '11111111-1111-4111-8111-111111111111';
const EVENT_ID = '4db48cba-50a2-455a-93b4-de41a3b5b7f6';

/** The app's clock at delivery: a little after the SubscriptionCreated events below were published. */
const NOW = new Date('2026-11-22T05:02:00.000Z');
const parse = (input: unknown) => parseContactWatchEvent(input, NOW);

const EVENTGRID_DIR = new URL('../../fixtures/azure-examples/eventgrid/Microsoft.Resources/', import.meta.url);
const SCHEMAS = ['event-grid-schema', 'cloud-events-schema'] as const;
type SchemaDir = (typeof SCHEMAS)[number];

function fixtureFiles(schema: SchemaDir): string[] {
  return readdirSync(new URL(`${schema}/`, EVENTGRID_DIR)).filter((name) => name.endsWith('.json'));
}

/** Placeholders of the examples filled in, everything else as Azure sends it. */
function resourceExample(schema: SchemaDir, file: string): any {
  const text = JSON.stringify(azureExample(`eventgrid/Microsoft.Resources/${schema}/${file}`))
    .replaceAll('{subscription-id}', SUBSCRIPTION)
    .replaceAll('{tenant-id}', '66f6e4d6-07dc-4aea-94ea-e12d3026a3c8')
    .replaceAll('{resource-group}', 'rg-vending');
  return JSON.parse(text);
}

/** The example turned into a securityContacts write or delete, at subscription scope as Defender's contact is. */
function contactEvent(schema: SchemaDir, file: string, operation: 'write' | 'delete'): any {
  const event = resourceExample(schema, file);
  const type = operation === 'write' ? 'Microsoft.Resources.ResourceWriteSuccess' : 'Microsoft.Resources.ResourceDeleteSuccess';
  const resource = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/default`;
  if (schema === 'event-grid-schema') event.eventType = type;
  else event.type = type;
  event.subject = resource;
  event.data.resourceUri = resource;
  event.data.resourceProvider = 'Microsoft.Security';
  event.data.operationName = `Microsoft.Security/securityContacts/${operation}`;
  event.data.authorization.scope = resource;
  event.data.authorization.action = event.data.operationName;
  return event;
}

function subscriptionCreated(schema: SchemaDir, data: unknown = { subscriptionId: SUBSCRIPTION }): any {
  return schema === 'event-grid-schema'
    ? {
        id: 'a7f0c0de-5c1b-4c55-9a57-0a1f55c6d001',
        topic: '/subscriptions/99999999-9999-4999-8999-999999999999/resourceGroups/platform/providers/Microsoft.EventGrid/topics/vending',
        subject: `/subscriptions/${SUBSCRIPTION}`,
        eventType: 'ContactWatch.SubscriptionCreated',
        eventTime: '2026-11-22T05:00:00.1234567Z',
        data,
        dataVersion: '1.0',
        metadataVersion: '1',
      }
    : {
        specversion: '1.0',
        id: 'a7f0c0de-5c1b-4c55-9a57-0a1f55c6d001',
        source: '/providers/contoso/vending-pipeline',
        type: 'ContactWatch.SubscriptionCreated',
        time: '2026-11-22T05:00:00Z',
        datacontenttype: 'application/json',
        data,
      };
}

const eventGridName = { 'event-grid-schema': 'event-grid', 'cloud-events-schema': 'cloud-events' } as const;

describe('resource events from the examples, as securityContacts writes and deletes', () => {
  for (const schema of SCHEMAS) {
    const files = fixtureFiles(schema);
    it(`has examples in ${schema}`, () => expect(files.length).toBeGreaterThan(0));
    for (const file of files) {
      for (const operation of ['write', 'delete'] as const) {
        it(`${schema}/${file} as a ${operation}`, () => {
          expect(parse(contactEvent(schema, file, operation))).toEqual({
            kind: 'contact-changed',
            schema: eventGridName[schema],
            eventId: EVENT_ID,
            subscriptionId: SUBSCRIPTION,
            operation,
          });
        });
      }

      it(`${schema}/${file} as it is (a storage account write) is ignored, naming the operation`, () => {
        const result = parse(resourceExample(schema, file));
        expect(result).toMatchObject({ kind: 'ignored', eventId: EVENT_ID, eventType: 'Microsoft.Resources.ResourceWriteSuccess' });
        expect(result.kind === 'ignored' && result.reason).toMatch(
          /Microsoft\.Storage\/storageAccounts\/write.*not a securityContacts write or delete/,
        );
      });

      it(`${schema}/${file}: the operation name and types are matched without case`, () => {
        const event = contactEvent(schema, file, 'delete');
        event.data.operationName = 'MICROSOFT.SECURITY/SECURITYCONTACTS/DELETE';
        event.data.subscriptionId = SUBSCRIPTION.toUpperCase();
        expect(parse(event)).toMatchObject({ kind: 'contact-changed', operation: 'delete', subscriptionId: SUBSCRIPTION });
      });

      it(`${schema}/${file}: the subscription comes from the resource URI or subject when data has none`, () => {
        const event = contactEvent(schema, file, 'write');
        delete event.data.subscriptionId;
        expect(parse(event)).toMatchObject({ kind: 'contact-changed', subscriptionId: SUBSCRIPTION });
        delete event.data.resourceUri;
        expect(parse(event)).toMatchObject({ kind: 'contact-changed', subscriptionId: SUBSCRIPTION });
        event.subject = 'securityContacts/default';
        expect(parse(event)).toEqual({
          kind: 'malformed',
          reason: 'no subscription id in data.subscriptionId, data.resourceUri or subject',
        });
      });

      it(`${schema}/${file}: data, resource URI and subject that disagree are malformed`, () => {
        const event = contactEvent(schema, file, 'write');
        event.subject = `/subscriptions/${OTHER_SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/default`;
        expect(parse(event)).toEqual({
          kind: 'malformed',
          reason: `data.subscriptionId (${SUBSCRIPTION}) and subject (${OTHER_SUBSCRIPTION}) name different subscriptions`,
        });
        const second = contactEvent(schema, file, 'write');
        second.data.resourceUri = `/subscriptions/${OTHER_SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/default`;
        expect(parse(second)).toMatchObject({ kind: 'malformed', reason: expect.stringMatching(/data\.resourceUri/) });
      });
    }
  }

  it('a resource event without an operation, or whose operation contradicts its type, is malformed', () => {
    const event = contactEvent('event-grid-schema', 'resource_write_success.json', 'write');
    delete event.data.operationName;
    expect(parse(event)).toEqual({ kind: 'malformed', reason: 'data.operationName is missing (Microsoft.Resources.ResourceWriteSuccess)' });
    const contradicting = contactEvent('cloud-events-schema', 'resource_write_success.json', 'write');
    contradicting.data.operationName = 'Microsoft.Security/securityContacts/delete';
    expect(parse(contradicting)).toMatchObject({
      kind: 'malformed',
      reason: expect.stringMatching(/data\.operationName .* does not match the event type/),
    });
  });

  it('a non-GUID subscription in data or in the resource path is malformed', () => {
    const event = contactEvent('event-grid-schema', 'resource_write_success.json', 'write');
    event.data.subscriptionId = 'not-a-guid';
    expect(parse(event)).toEqual({ kind: 'malformed', reason: 'data.subscriptionId "not-a-guid" is not a subscription id (a GUID)' });
    const path = contactEvent('event-grid-schema', 'resource_write_success.json', 'write');
    delete path.data.subscriptionId;
    path.data.resourceUri = '/subscriptions/{subscription-id}/providers/Microsoft.Security/securityContacts/default';
    expect(parse(path)).toEqual({ kind: 'malformed', reason: 'data.resourceUri names a subscription that is not a GUID' });
  });

  it('a resource action event is ignored with its type', () => {
    const event = contactEvent('event-grid-schema', 'resource_write_success.json', 'write');
    event.eventType = 'Microsoft.Resources.ResourceActionSuccess';
    expect(parse(event)).toEqual({
      kind: 'ignored',
      schema: 'event-grid',
      eventId: EVENT_ID,
      eventType: 'Microsoft.Resources.ResourceActionSuccess',
      reason: 'event type "Microsoft.Resources.ResourceActionSuccess" is not one contact-watch handles',
    });
  });
});

describe('ContactWatch.SubscriptionCreated', () => {
  for (const schema of SCHEMAS) {
    it(`is read in ${schema}`, () => {
      expect(parse(subscriptionCreated(schema))).toEqual({
        kind: 'subscription-created',
        schema: eventGridName[schema],
        eventId: 'a7f0c0de-5c1b-4c55-9a57-0a1f55c6d001',
        subscriptionId: SUBSCRIPTION,
        // Event Grid's seven fractional digits, read to the millisecond.
        eventTime: schema === 'event-grid-schema' ? '2026-11-22T05:00:00.123Z' : '2026-11-22T05:00:00.000Z',
      });
    });

    if (schema === 'cloud-events-schema') {
      it('cloud-events-schema: `time` is optional, and then the event carries no eventTime', () => {
        const event = subscriptionCreated(schema);
        delete event.time;
        const parsed = parse(event);
        expect(parsed).toMatchObject({ kind: 'subscription-created', subscriptionId: SUBSCRIPTION });
        expect(parsed).not.toHaveProperty('eventTime');
      });
    }

    it(`${schema}: the subscription id is taken in any case and stored in lower case; extra data is fine`, () => {
      const event = subscriptionCreated(schema, {
        subscriptionId: SUBSCRIPTION.toUpperCase(),
        displayName: 'Test Subscription',
        workload: 'Production',
      });
      expect(parse(event)).toMatchObject({ kind: 'subscription-created', subscriptionId: SUBSCRIPTION });
    });

    it(`${schema}: missing data, missing or non-GUID id are malformed, naming the field`, () => {
      const withoutData = subscriptionCreated(schema);
      delete withoutData.data;
      expect(parse(withoutData)).toEqual({ kind: 'malformed', reason: 'data is missing (ContactWatch.SubscriptionCreated)' });
      expect(parse(subscriptionCreated(schema, {}))).toEqual({ kind: 'malformed', reason: 'data.subscriptionId is missing' });
      expect(parse(subscriptionCreated(schema, { subscriptionId: 'aliasForNewSub' }))).toEqual({
        kind: 'malformed',
        reason: 'data.subscriptionId "aliasForNewSub" is not a subscription id (a GUID)',
      });
      expect(parse(subscriptionCreated(schema, { subscriptionId: 42 }))).toEqual({
        kind: 'malformed',
        reason: 'data.subscriptionId must be a string (a subscription id)',
      });
      expect(parse(subscriptionCreated(schema, 'e2283d0f-acad-4904-b803-627dd74cc072'))).toEqual({
        kind: 'malformed',
        reason: 'data is a string, not a JSON object (ContactWatch.SubscriptionCreated)',
      });
      expect(parse(subscriptionCreated(schema, [{ subscriptionId: SUBSCRIPTION }]))).toMatchObject({
        kind: 'malformed',
        reason: expect.stringMatching(/^data is an array of 1 item/),
      });
    });

    it(`${schema}: a field named kind in data is just data`, () => {
      const event = subscriptionCreated(schema, { subscriptionId: SUBSCRIPTION, kind: 'malformed' });
      expect(parse(event)).toMatchObject({ kind: 'subscription-created', subscriptionId: SUBSCRIPTION });
    });
  }

  it('the id the createAlias response gives is the one a pipeline publishes', () => {
    const alias = azureExample('subscription/2021-10-01/createAlias.json');
    const id: string = alias.responses['201'].body.properties.subscriptionId;
    expect(parse(subscriptionCreated('cloud-events-schema', { subscriptionId: id }))).toMatchObject({ subscriptionId: id });
  });

  it('a subject naming another subscription than data is malformed', () => {
    const event = subscriptionCreated('event-grid-schema');
    event.subject = `/subscriptions/${OTHER_SUBSCRIPTION}`;
    expect(parse(event)).toEqual({
      kind: 'malformed',
      reason: `data.subscriptionId (${SUBSCRIPTION}) and subject (${OTHER_SUBSCRIPTION}) name different subscriptions`,
    });
  });
});

describe("a SubscriptionCreated's time, judged against the app's clock", () => {
  const minutesFromNow = (minutes: number, extraMs = 0) => new Date(NOW.getTime() + minutes * 60_000 + extraMs).toISOString();

  for (const schema of SCHEMAS) {
    const field = schema === 'event-grid-schema' ? 'eventTime' : 'time';
    const schemaName = schema === 'event-grid-schema' ? 'Event Grid event' : 'CloudEvents 1.0 event';
    const at = (time: string) => ({ ...subscriptionCreated(schema), [field]: time });

    it(`${schema}: ${field} up to ${MAX_EVENT_CLOCK_SKEW_MINUTES} minutes ahead is clock skew, and accepted`, () => {
      const skewed = minutesFromNow(MAX_EVENT_CLOCK_SKEW_MINUTES);
      expect(parse(at(skewed))).toMatchObject({ kind: 'subscription-created', subscriptionId: SUBSCRIPTION, eventTime: skewed });
    });

    it(`${schema}: ${field} further ahead is malformed, naming the field and the bound`, () => {
      const justOver = minutesFromNow(MAX_EVENT_CLOCK_SKEW_MINUTES, 1);
      expect(parse(at(justOver))).toEqual({
        kind: 'malformed',
        reason: `${field} "${justOver}" is more than 5 minutes ahead of now (2026-11-22T05:02:00.000Z), the clock skew allowed; a subscription cannot be announced before it exists`,
      });
      expect(parse(at('2999-01-01T00:00:00Z'))).toMatchObject({
        kind: 'malformed',
        reason: expect.stringMatching(new RegExp(`^${field} "2999-01-01T00:00:00Z" is more than 5 minutes ahead of now`)),
      });
    });

    it(`${schema}: ${field} at or beyond the edges of what Date can represent is malformed or accepted, never a throw`, () => {
      // The latest instant Date can represent: far ahead, so malformed.
      expect(parse(at('+275760-09-13T00:00:00.000Z'))).toMatchObject({
        kind: 'malformed',
        reason: expect.stringMatching(/is more than 5 minutes ahead of now/),
      });
      // Just beyond either edge, and far beyond: not a date and time at all.
      for (const time of ['+275760-09-13T00:00:00.001Z', '+999999-01-01T00:00:00Z', '-271821-04-19T23:59:59.999Z']) {
        expect(parse(at(time)), time).toEqual({ kind: 'malformed', reason: `${field} is not a date and time (${schemaName})` });
      }
      // The earliest instant it can represent: long past, so accepted (the access window has long closed).
      expect(parse(at('-271821-04-20T00:00:00Z'))).toMatchObject({
        kind: 'subscription-created',
        eventTime: '-271821-04-20T00:00:00.000Z',
      });
    });
  }

  it('moves with the clock it is given, not the wall clock', () => {
    const event = { ...subscriptionCreated('event-grid-schema'), eventTime: '2999-01-01T00:00:00Z' };
    expect(parseContactWatchEvent(event, new Date('2998-12-31T23:56:00Z'))).toMatchObject({
      kind: 'subscription-created',
      eventTime: '2999-01-01T00:00:00.000Z',
    });
    expect(parseContactWatchEvent(event, new Date('2998-12-31T23:54:00Z'))).toMatchObject({
      kind: 'malformed',
      reason: expect.stringMatching(/^eventTime "2999-01-01T00:00:00Z" is more than 5 minutes ahead of now \(2998-12-31T23:54:00\.000Z\)/),
    });
  });

  it("does not bound a contact change's time, which decides nothing (the contact is read fresh either way)", () => {
    const event = contactEvent('event-grid-schema', 'resource_write_success.json', 'write');
    event.eventTime = '2999-01-01T00:00:00Z';
    expect(parse(event)).toMatchObject({ kind: 'contact-changed', subscriptionId: SUBSCRIPTION });
  });
});

describe('what is not an event of either schema', () => {
  const cases: [string, unknown, RegExp][] = [
    ['null', null, /^the event is null, not a JSON object$/],
    ['undefined', undefined, /^the event is empty, not a JSON object$/],
    ['a string', 'ContactWatch.SubscriptionCreated', /^the event is a string, not a JSON object$/],
    ['a number', 42, /^the event is a number, not a JSON object$/],
    ['a boolean', true, /^the event is a boolean, not a JSON object$/],
    [
      'an array of events',
      [subscriptionCreated('event-grid-schema')],
      /^the event is an array of 1 item \(one event per invocation is expected\)/,
    ],
    ['an empty array', [], /^the event is an array of 0 items/],
    ['binary data', new Uint8Array([123, 125]), /^the event is 2 bytes of binary data/],
    ['an empty object', {}, /neither an Event Grid event \(no eventType\) nor a CloudEvents 1\.0 event \(no specversion\)/],
    ['an unrelated object', { hello: 'world', subscriptionId: SUBSCRIPTION }, /neither an Event Grid event/],
  ];
  for (const [name, input, reason] of cases) {
    it(`${name} is malformed`, () => {
      const result = parse(input);
      expect(result.kind).toBe('malformed');
      expect(result.kind === 'malformed' && result.reason).toMatch(reason);
    });
  }

  it('a mixed schema is malformed, naming the fields of each', () => {
    const mixed = { ...subscriptionCreated('event-grid-schema'), specversion: '1.0' };
    expect(parse(mixed)).toEqual({
      kind: 'malformed',
      reason:
        'the event mixes Event Grid fields (eventType, eventTime, dataVersion, metadataVersion) with CloudEvents fields (specversion); it must use one schema',
    });
    const other = { ...subscriptionCreated('cloud-events-schema'), eventType: 'ContactWatch.SubscriptionCreated' };
    expect(parse(other)).toMatchObject({
      kind: 'malformed',
      reason: expect.stringMatching(/^the event mixes Event Grid fields \(eventType\)/),
    });
  });

  it('a wrong schema version or a missing envelope field is malformed, naming the field and the schema', () => {
    expect(parse({ ...subscriptionCreated('cloud-events-schema'), specversion: '0.3' })).toEqual({
      kind: 'malformed',
      reason: 'specversion must be "1.0" (CloudEvents 1.0 event)',
    });
    const noId = subscriptionCreated('event-grid-schema');
    delete noId.id;
    expect(parse(noId)).toEqual({ kind: 'malformed', reason: 'id is missing (Event Grid event)' });
    const noSource = subscriptionCreated('cloud-events-schema');
    delete noSource.source;
    expect(parse(noSource)).toEqual({ kind: 'malformed', reason: 'source is missing (CloudEvents 1.0 event)' });
    expect(parse({ ...subscriptionCreated('event-grid-schema'), eventTime: 'yesterday' })).toEqual({
      kind: 'malformed',
      reason: 'eventTime is not a date and time (Event Grid event)',
    });
    expect(parse({ ...subscriptionCreated('event-grid-schema'), eventType: 7 })).toEqual({
      kind: 'malformed',
      reason: 'eventType must be a string (Event Grid event)',
    });
    expect(parse({ ...subscriptionCreated('cloud-events-schema'), id: 'line\nbreak' })).toEqual({
      kind: 'malformed',
      reason: 'id holds a control character (CloudEvents 1.0 event)',
    });
    // CloudEvents without specversion but with its other fields: the wrong schema, not ignored.
    const noVersion = subscriptionCreated('cloud-events-schema');
    delete noVersion.specversion;
    expect(parse(noVersion)).toMatchObject({ kind: 'malformed', reason: expect.stringMatching(/^specversion must be "1\.0"/) });
  });

  it('an event of another type is ignored even without data', () => {
    const validation = {
      id: '2d1781af-3a4c-4d7c-bd0c-e34b19da4e66',
      topic: '/subscriptions/x/resourceGroups/y/providers/Microsoft.EventGrid/topics/z',
      subject: '',
      eventType: 'Microsoft.Storage.BlobCreated',
      eventTime: '2018-01-25T22:12:19.4556811Z',
      metadataVersion: '1',
      dataVersion: '1',
    };
    expect(parse(validation)).toMatchObject({
      kind: 'ignored',
      eventType: 'Microsoft.Storage.BlobCreated',
      reason: expect.stringMatching(/not one contact-watch handles/),
    });
  });

  it('refuses 1 MB of junk before deep parsing, having read only as much of it as the limit allows', () => {
    // The walk's work is counted as the values it reads out of the junk: it must stop at the
    // limit, however much more there is.
    let reads = 0;
    const counted = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(object, key, receiver) {
          if (typeof key === 'string' && key !== 'length') reads += 1;
          return Reflect.get(object, key, receiver);
        },
      });

    // A string is refused on its length, before a character of it is read.
    const junk = { eventType: 'ContactWatch.SubscriptionCreated', data: { subscriptionId: SUBSCRIPTION, junk: 'x'.repeat(1024 * 1024) } };
    expect(parse(junk)).toEqual({ kind: 'malformed', reason: 'the event is larger than 64 KB serialised' });

    // An array is refused on its length, before an element of it is read.
    const wide = {
      ...subscriptionCreated('event-grid-schema'),
      data: { subscriptionId: SUBSCRIPTION, items: counted(Array.from({ length: 1_000_000 }, () => 0)) },
    };
    expect(parse(wide)).toEqual({ kind: 'malformed', reason: 'the event is larger than 64 KB serialised' });
    expect(reads).toBe(0);

    // An object's keys are read one at a time, each costing at least its own length plus 4 bytes:
    // the walk stops after at most MAX_EVENT_BYTES / 4 of its 100,000 values.
    const manyKeys = {
      ...subscriptionCreated('cloud-events-schema'),
      data: counted(Object.fromEntries(Array.from({ length: 100_000 }, (_, index) => [`k${index}`, index]))),
    };
    expect(parse(manyKeys)).toEqual({ kind: 'malformed', reason: 'the event is larger than 64 KB serialised' });
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThanOrEqual(MAX_EVENT_BYTES / 4);
  });

  it('refuses a nesting bomb without overflowing the stack', () => {
    let bomb: unknown = { subscriptionId: SUBSCRIPTION };
    for (let depth = 0; depth < 100_000; depth++) bomb = { a: bomb };
    expect(parse({ ...subscriptionCreated('event-grid-schema'), data: bomb })).toEqual({
      kind: 'malformed',
      reason: 'the event is nested deeper than 32 levels',
    });
    const cycle: Record<string, unknown> = { eventType: 'x' };
    cycle.self = cycle;
    expect(parse(cycle)).toMatchObject({ kind: 'malformed' });
  });

  it('accepts an event just under the limit and refuses one just over it', () => {
    const base = subscriptionCreated('event-grid-schema', { subscriptionId: SUBSCRIPTION, note: '' });
    const overhead = JSON.stringify(base).length;
    base.data.note = 'n'.repeat(MAX_EVENT_BYTES - overhead);
    expect(JSON.stringify(base).length).toBe(MAX_EVENT_BYTES);
    expect(parse(base).kind).toBe('subscription-created');
    base.data.note += 'nn';
    expect(parse(base)).toMatchObject({ kind: 'malformed', reason: expect.stringMatching(/larger than 64 KB/) });
  });

  it('never throws, whatever it is given', () => {
    const odd: unknown[] = [
      Symbol('s'),
      () => 1,
      10n,
      new Date(0),
      new Map(),
      Object.create(null),
      { eventType: 1n },
      { specversion: Symbol('x') },
    ];
    for (const input of odd) expect(() => parse(input)).not.toThrow();
    const hostile = Object.defineProperty({ eventType: 'x' }, 'data', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(parse(hostile)).toEqual({ kind: 'malformed', reason: 'the event could not be read as JSON' });
  });
});

describe('measureJson', () => {
  it('measures what JSON.stringify writes for plain values', () => {
    const value = { a: [1, 'two', null, true, { b: 'é€𝄞' }], c: '' };
    expect(measureJson(value, 1_000, 10)).toEqual({ ok: true, bytes: Buffer.byteLength(JSON.stringify(value)) });
  });
});
