/**
 * The soak's truth is hand-labelled: each catalogue contact says what it is under the default
 * policy. The labels must agree with the rules, or the soak would measure its own mistakes.
 */
import { describe, expect, it } from 'vitest';
import { evaluateContact } from '../../src/core/evaluate.js';
import { normaliseContactList } from '../../src/core/normalise.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { CONTACT_CATALOGUE, contactFor } from './contacts.js';

const SUBSCRIPTION = '5c0a4f1e-7d3b-4c2a-9e8f-1a2b3c4d5e6f';

describe('the soak contact catalogue', () => {
  it.each(CONTACT_CATALOGUE.map((entry) => [entry.name, entry] as const))('%s is judged as labelled', (_name, entry) => {
    const read = normaliseContactList(contactFor(SUBSCRIPTION, entry));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(evaluateContact(read.contact, DEFAULT_POLICY).status).toBe(entry.label);
  });

  it('holds compliant contacts and each way to fail', () => {
    expect(CONTACT_CATALOGUE.filter((entry) => entry.label === 'compliant').length).toBeGreaterThanOrEqual(3);
    const failing = new Set(
      CONTACT_CATALOGUE.filter((entry) => entry.label === 'noncompliant').flatMap((entry) => {
        const read = normaliseContactList(contactFor(SUBSCRIPTION, entry));
        return read.ok
          ? evaluateContact(read.contact, DEFAULT_POLICY)
              .findings.filter((f) => f.result !== 'pass')
              .map((f) => f.ruleId)
          : [];
      }),
    );
    expect([...failing].sort()).toEqual([
      'alert-notifications',
      'attack-path-notifications',
      'contact-exists',
      'email-configured',
      'owner-notifications',
    ]);
  });
});
