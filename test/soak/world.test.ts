/**
 * The soak's truth model: what each view showed when, exemptions laid over it, the local server's
 * quirk order, and Resource Graph honouring RBAC. The soak's verdicts are only as good as this.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedTenant } from '../azure-server/index.js';
import { contactFor, contactNamed } from './contacts.js';
import { SoakRandom } from './random.js';
import { SoakWorld } from './world.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2025-03-01T00:00:00.000Z');

function makeWorld(maxIndexLagMs = 0): { world: SoakWorld; tenant: SimulatedTenant } {
  const tenant = new SimulatedTenant();
  return { world: new SoakWorld(tenant, new SoakRandom(1), { maxIndexLagMs }), tenant };
}

function compliantSubscription(world: SoakWorld, now = T0): string {
  return world.addSubscription(now, { indexed: true, contact: contactNamed('compliant-2023') });
}

/** The recorded segments' starts, in the order they are kept. */
function segmentStarts(world: SoakWorld, id: string): number[] {
  const described = world.describe(id) as { segments: Array<{ from: string }> };
  return described.segments.map((segment) => Date.parse(segment.from));
}

const isSorted = (values: number[]): boolean => values.every((value, index) => index === 0 || values[index - 1]! <= value);

describe('SoakWorld exemptions', () => {
  it('a re-exemption during an active one replaces it: the old end no longer applies', () => {
    const { world } = makeWorld();
    const id = compliantSubscription(world);
    world.setExemption(T0 + DAY, id, T0 + 10 * DAY);
    world.setExemption(T0 + 2 * DAY, id, T0 + 5 * DAY);
    world.setContact(T0 + 3 * DAY, id, contactNamed('placeholder-email'));

    expect(world.truthAt(id, T0 + 4 * DAY, 'api')).toBe('exempt');
    expect(world.truthAt(id, T0 + 6 * DAY, 'api')).toBe('noncompliant');
    expect(world.isExempt(id, T0 + 6 * DAY)).toBe(false);
    expect(world.truthSince(id, T0 + 6 * DAY, 'api')).toBe(T0 + 5 * DAY);
    expect(world.truthsDuring(id, T0 + 4 * DAY, T0 + 11 * DAY, 'api')).toEqual(new Set(['exempt', 'noncompliant']));
    expect(isSorted(segmentStarts(world, id))).toBe(true);
  });

  it('a re-exemption that lasts longer keeps the subscription exempt past the first end', () => {
    const { world } = makeWorld();
    const id = compliantSubscription(world);
    world.setExemption(T0 + DAY, id, T0 + 3 * DAY);
    world.setExemption(T0 + 2 * DAY, id, T0 + 8 * DAY);

    expect(world.truthAt(id, T0 + 4 * DAY, 'api')).toBe('exempt');
    expect(world.truthAt(id, T0 + 4 * DAY, 'index')).toBe('exempt');
    expect(world.truthSince(id, T0 + 4 * DAY, 'api')).toBe(T0 + DAY);
    expect(world.truthAt(id, T0 + 8 * DAY, 'api')).toBe('compliant');
  });

  it('an exemption lifted early ends when it is lifted', () => {
    const { world } = makeWorld();
    const id = compliantSubscription(world);
    world.setExemption(T0 + DAY, id, T0 + 10 * DAY);
    world.setExemption(T0 + 3 * DAY, id, null);

    expect(world.truthAt(id, T0 + 2 * DAY, 'api')).toBe('exempt');
    expect(world.isExempt(id, T0 + 2 * DAY)).toBe(true);
    expect(world.truthAt(id, T0 + 4 * DAY, 'api')).toBe('compliant');
    expect(world.isExempt(id, T0 + 4 * DAY)).toBe(false);
    expect(world.truthSince(id, T0 + 4 * DAY, 'api')).toBe(T0 + 3 * DAY);
  });

  it('does not apply over a skipped subscription, and applies again once it is re-enabled', () => {
    const { world } = makeWorld();
    const id = compliantSubscription(world);
    world.setState(T0 + HOUR, id, 'Disabled');
    world.setExemption(T0 + 2 * HOUR, id, T0 + 10 * DAY);

    expect(world.truthAt(id, T0 + 3 * HOUR, 'api')).toBe('skipped');
    expect(world.truthAt(id, T0 + 3 * HOUR, 'index')).toBe('skipped');
    expect(world.truthsDuring(id, T0 + 90 * 60_000, T0 + DAY, 'api')).toEqual(new Set(['skipped']));

    world.setState(T0 + DAY, id, 'Enabled');
    expect(world.truthAt(id, T0 + 2 * DAY, 'api')).toBe('exempt');
    expect(world.truthSince(id, T0 + 2 * DAY, 'api')).toBe(T0 + DAY);
  });

  it('does not apply over a removed subscription', () => {
    const { world } = makeWorld();
    const id = compliantSubscription(world);
    world.setExemption(T0 + HOUR, id, T0 + 10 * DAY);
    world.remove(T0 + DAY, id);
    expect(world.truthAt(id, T0 + 2 * DAY, 'api')).toBe('gone');
    expect(world.truthAt(id, T0 + 2 * DAY, 'index')).toBe('gone');
  });

  it('truthSince dates a change at an exemption boundary, not at a change hidden under the exemption', () => {
    const { world } = makeWorld();
    const id = compliantSubscription(world);
    world.setExemption(T0 + DAY, id, T0 + 5 * DAY);
    world.setContact(T0 + 2 * DAY, id, contactNamed('placeholder-email'));

    expect(world.truthSince(id, T0 + 3 * DAY, 'api')).toBe(T0 + DAY);
    expect(world.truthSince(id, T0 + 6 * DAY, 'api')).toBe(T0 + 5 * DAY);
    expect(world.truthSince(id, T0 + 12 * HOUR, 'api')).toBe(T0);
  });

  it('truthSince starts a compliant stretch after an exemption even when compliant before it', () => {
    const { world } = makeWorld();
    const id = compliantSubscription(world);
    world.setExemption(T0 + DAY, id, T0 + 2 * DAY);
    expect(world.truthSince(id, T0 + 3 * DAY, 'api')).toBe(T0 + 2 * DAY);
    expect(world.truthSince(id, T0 + 3 * DAY, 'index')).toBe(T0 + 2 * DAY);
  });

  it('truthsDuring includes what an exemption boundary inside the window separates', () => {
    const { world } = makeWorld();
    const id = compliantSubscription(world);
    world.setExemption(T0 + DAY, id, T0 + 2 * DAY);

    expect(world.truthsDuring(id, T0 + DAY - HOUR, T0 + DAY + HOUR, 'api')).toEqual(new Set(['compliant', 'exempt']));
    expect(world.truthsDuring(id, T0 + 2 * DAY - HOUR, T0 + 2 * DAY + HOUR, 'index')).toEqual(new Set(['exempt', 'compliant']));
    expect(world.truthsDuring(id, T0 + DAY + HOUR, T0 + 2 * DAY - HOUR, 'api')).toEqual(new Set(['exempt']));
    expect(world.truthsDuring(id, T0, T0 + 3 * DAY, 'api')).toEqual(new Set(['compliant', 'exempt']));
  });

  it('forgetBefore drops exemptions that ended and does not date a later stretch back through them', () => {
    const { world } = makeWorld();
    const id = compliantSubscription(world);
    world.setExemption(T0 + DAY, id, T0 + 2 * DAY);
    world.setExemption(T0 + 3 * DAY, id, T0 + 30 * DAY);
    const other = compliantSubscription(world);
    world.setExemption(T0 + DAY, other, T0 + 2 * DAY);
    world.forgetBefore(T0 + 10 * DAY);

    // Compliant since the forgotten exemption ended, not since the subscription was added.
    expect(world.truthSince(other, T0 + 11 * DAY, 'api')).toBe(T0 + 2 * DAY);
    const described = world.describe(id) as { exemptions: Array<{ from: string; until: string }> };
    expect(described.exemptions.map((exemption) => Date.parse(exemption.from))).toEqual([T0 + 3 * DAY]);
    expect(world.truthAt(id, T0 + 11 * DAY, 'api')).toBe('exempt');
    expect(world.truthAt(id, T0 + 31 * DAY, 'api')).toBe('compliant');
    expect(world.truthSince(id, T0 + 31 * DAY, 'api')).toBe(T0 + 30 * DAY);
  });
});

describe('SoakWorld quirk order (as the local server answers)', () => {
  it('answers 409 for an unregistered provider before looking at the body: noncompliant, not error', () => {
    const { world, tenant } = makeWorld();
    const id = compliantSubscription(world);
    world.setUnreadable(T0 + HOUR, id, 'not-json');
    expect(world.truthAt(id, T0 + HOUR, 'api')).toBe('error');
    world.setProviderNotRegistered(T0 + 2 * HOUR, id, true);
    expect(tenant.getSubscription(id)!.quirks).toMatchObject({ providerNotRegistered: true, invalidBody: 'not-json' });
    expect(world.truthAt(id, T0 + 2 * HOUR, 'api')).toBe('noncompliant');
    world.setProviderNotRegistered(T0 + 3 * HOUR, id, false);
    expect(world.truthAt(id, T0 + 3 * HOUR, 'api')).toBe('error');
  });

  it('answers 403 and 404 before the 409: error', () => {
    const { world } = makeWorld();
    const id = compliantSubscription(world);
    world.setProviderNotRegistered(T0 + HOUR, id, true);
    expect(world.truthAt(id, T0 + HOUR, 'api')).toBe('noncompliant');
    world.setUnreadable(T0 + 2 * HOUR, id, 'forbidden');
    expect(world.truthAt(id, T0 + 2 * HOUR, 'api')).toBe('error');
    world.setUnreadable(T0 + 3 * HOUR, id, 'not-found');
    expect(world.truthAt(id, T0 + 3 * HOUR, 'api')).toBe('error');
    world.setUnreadable(T0 + 4 * HOUR, id, null);
    expect(world.truthAt(id, T0 + 4 * HOUR, 'api')).toBe('noncompliant');
  });
});

describe('SoakWorld Resource Graph', () => {
  it('shows a lag-free change in the index view at once', () => {
    const { world, tenant } = makeWorld(0);
    const id = compliantSubscription(world);
    world.setContact(T0 + HOUR, id, contactNamed('placeholder-email'));
    expect(world.truthAt(id, T0 + HOUR, 'index')).toBe('noncompliant');
    expect(tenant.getSubscription(id)!.indexedContacts).toEqual(contactFor(id, contactNamed('placeholder-email')));
  });

  it('clears the index of a forbidden subscription at once, and a lagging catch-up does not restore it', () => {
    const { world, tenant } = makeWorld(HOUR);
    const id = compliantSubscription(world);
    world.setContact(T0 + 10 * 60_000, id, contactNamed('compliant-two-addresses'));
    world.setUnreadable(T0 + 11 * 60_000, id, 'forbidden');

    expect(tenant.getSubscription(id)!.indexedContacts).toEqual([]);
    expect(world.truthAt(id, T0 + 11 * 60_000, 'index')).toBe('noncompliant');

    world.advanceIndex(T0 + 3 * HOUR);
    expect(tenant.getSubscription(id)!.indexedContacts).toEqual([]);
    expect(world.truthAt(id, T0 + 3 * HOUR, 'index')).toBe('noncompliant');

    // Mended: Resource Graph shows the contact again, after the lag.
    world.setUnreadable(T0 + 4 * HOUR, id, null);
    expect(tenant.getSubscription(id)!.indexedContacts).toEqual([]);
    expect(world.truthAt(id, T0 + 4 * HOUR, 'index')).toBe('noncompliant');
    world.advanceIndex(T0 + 6 * HOUR);
    expect(tenant.getSubscription(id)!.indexedContacts).toEqual(contactFor(id, contactNamed('compliant-two-addresses')));
    expect(world.truthAt(id, T0 + 6 * HOUR, 'index')).toBe('compliant');
    expect(world.truthSince(id, T0 + 6 * HOUR, 'index')).toBeGreaterThan(T0 + 4 * HOUR);
  });

  it('clears the index of a subscription that is not found, but not of one whose body is not JSON', () => {
    const { world, tenant } = makeWorld(0);
    const missing = compliantSubscription(world);
    const broken = compliantSubscription(world);
    world.setUnreadable(T0 + HOUR, missing, 'not-found');
    world.setUnreadable(T0 + HOUR, broken, 'not-json');

    expect(tenant.getSubscription(missing)!.indexedContacts).toEqual([]);
    expect(world.truthAt(missing, T0 + HOUR, 'index')).toBe('noncompliant');
    expect(tenant.getSubscription(broken)!.indexedContacts).toEqual(contactFor(broken, contactNamed('compliant-2023')));
    expect(world.truthAt(broken, T0 + HOUR, 'index')).toBe('compliant');
  });

  it('keeps the index empty while the provider is unregistered, whatever catches up', () => {
    const { world, tenant } = makeWorld(HOUR);
    const id = compliantSubscription(world);
    world.setContact(T0 + 10 * 60_000, id, contactNamed('compliant-two-addresses'));
    world.setProviderNotRegistered(T0 + 11 * 60_000, id, true);
    world.advanceIndex(T0 + 3 * HOUR);
    expect(tenant.getSubscription(id)!.indexedContacts).toEqual([]);
    expect(world.truthAt(id, T0 + 3 * HOUR, 'index')).toBe('noncompliant');
  });

  it('does not let a registered provider show a contact that RBAC hides', () => {
    const { world, tenant } = makeWorld(0);
    const id = compliantSubscription(world);
    world.setProviderNotRegistered(T0 + HOUR, id, true);
    world.setUnreadable(T0 + 2 * HOUR, id, 'forbidden');
    world.setProviderNotRegistered(T0 + 3 * HOUR, id, false);
    expect(tenant.getSubscription(id)!.indexedContacts).toEqual([]);
    expect(world.truthAt(id, T0 + 3 * HOUR, 'index')).toBe('noncompliant');
  });
});

describe('SoakWorld segments', () => {
  it('stay in time order when a change is dated before the last one', () => {
    const { world } = makeWorld(0);
    const id = compliantSubscription(world);
    world.setContact(T0 + 2 * HOUR, id, contactNamed('placeholder-email'));
    world.setState(T0 + HOUR, id, 'Disabled');

    expect(isSorted(segmentStarts(world, id))).toBe(true);
    expect(world.truthAt(id, T0 + 3 * HOUR, 'api')).toBe('skipped');
    expect(world.truthAt(id, T0 + 90 * 60_000, 'api')).toBe('compliant');
  });

  it('stay in time order through late catch-ups, exemptions and every other change', () => {
    const { world } = makeWorld(6 * HOUR);
    const random = new SoakRandom(7);
    const ids = [compliantSubscription(world), compliantSubscription(world), compliantSubscription(world)];
    let now = T0;
    for (let step = 0; step < 400; step += 1) {
      now += random.between(0, 2 * HOUR);
      const id = random.pick(ids);
      const action = random.between(0, 5);
      if (action === 0) world.setContact(now, id, contactNamed(random.pick(['compliant-2023', 'no-contact', 'placeholder-email'])));
      else if (action === 1) world.setState(now, id, random.pick(['Enabled', 'Disabled']));
      else if (action === 2) world.setUnreadable(now, id, random.pick(['forbidden', 'not-found', 'not-json', null] as const));
      else if (action === 3) world.setProviderNotRegistered(now, id, random.chance(0.5));
      else if (action === 4) world.setExemption(now, id, random.chance(0.3) ? null : now + random.between(1, 5) * DAY);
      // Catch-ups are sometimes applied late, dated before changes already recorded.
      else world.advanceIndex(now);
    }
    for (const id of ids) {
      expect(isSorted(segmentStarts(world, id))).toBe(true);
      const described = world.describe(id) as { exemptions: Array<{ from: string; until: string }> };
      const bounds = described.exemptions.flatMap((exemption) => [Date.parse(exemption.from), Date.parse(exemption.until)]);
      expect(isSorted(bounds)).toBe(true);
    }
  });
});
