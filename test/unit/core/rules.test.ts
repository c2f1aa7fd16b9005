/**
 * The rule registry (src/core/rules/index.ts) as a whole. What one rule decides, and its metadata,
 * is tested in test/unit/core/rules/<rule-id>.test.ts, one file per rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import { RULES, ruleById } from '../../../src/core/rules/index.js';
import { RELAXED_POLICY } from './rules/rule-test-kit.js';

const RULE_TESTS = new URL('./rules/', import.meta.url);
const TEST_SUFFIX = '.test.ts';

/** The rule ids the files in test/unit/core/rules/ are named after. */
const testedRuleIds = readdirSync(RULE_TESTS)
  .filter((file) => file.endsWith(TEST_SUFFIX))
  .map((file) => file.slice(0, -TEST_SUFFIX.length));

describe('RULES', () => {
  it('lists the five rules in contract order', () => {
    expect(RULES.map((rule) => rule.id)).toEqual([
      'contact-exists',
      'email-configured',
      'alert-notifications',
      'owner-notifications',
      'attack-path-notifications',
    ]);
  });

  it('finds a rule by id, and nothing for an unknown id', () => {
    expect(ruleById('owner-notifications').title).toBe('Subscription owners are e-mailed about security alerts');
    expect(ruleById('no-such-rule')).toBeUndefined();
  });

  it('requires contact-exists and email-configured whatever the policy says, the others as the policy says', () => {
    expect(RULES.filter((rule) => rule.isRequired(RELAXED_POLICY)).map((rule) => rule.id)).toEqual(['contact-exists', 'email-configured']);
    expect(RULES.every((rule) => rule.isRequired(DEFAULT_POLICY))).toBe(true);
  });
});

describe('one test file per rule', () => {
  it('has test/unit/core/rules/<rule-id>.test.ts for every rule in the registry', () => {
    const untested = RULES.map((rule) => rule.id).filter((id) => !testedRuleIds.includes(id));
    expect(untested, 'rules without a test file of their own').toEqual([]);
  });

  it('names every test file in test/unit/core/rules/ after a rule in the registry', () => {
    const strays = testedRuleIds.filter((id) => ruleById(id) === undefined);
    expect(strays, 'test files named after no rule').toEqual([]);
  });

  it("checks each rule's metadata in the rule's own file", () => {
    for (const id of testedRuleIds) {
      const source = readFileSync(new URL(`${id}${TEST_SUFFIX}`, RULE_TESTS), 'utf8');
      expect(source, `${id}${TEST_SUFFIX}`).toContain(`describeRuleMetadata('${id}', `);
    }
  });
});
