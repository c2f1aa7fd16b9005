import type { RuleId } from '../model.js';
import type { Rule } from './rule.js';
import { contactExistsRule } from './contact-exists.js';
import { emailConfiguredRule } from './email-configured.js';
import { alertNotificationsRule } from './alert-notifications.js';
import { ownerNotificationsRule } from './owner-notifications.js';
import { attackPathNotificationsRule } from './attack-path-notifications.js';

/** The five rules in the order of docs/reference/rules.md (the order of every report's findings). */
export const RULES: readonly Rule[] = Object.freeze([
  contactExistsRule,
  emailConfiguredRule,
  alertNotificationsRule,
  ownerNotificationsRule,
  attackPathNotificationsRule,
]);

const RULES_BY_ID = new Map<RuleId, Rule>(RULES.map((rule) => [rule.id, rule]));

/** The rule with this id. Every RuleId has one; an unknown string gives undefined. */
export function ruleById(id: RuleId): Rule;
export function ruleById(id: string): Rule | undefined;
export function ruleById(id: string): Rule | undefined {
  return RULES_BY_ID.get(id as RuleId);
}
