import type { Rule } from '../core/rules/rule.js';

/** What a formatter needs beyond the report itself. */
export interface RenderContext {
  /** The rules with their metadata (titles, rationale, references, remediation). */
  rules: readonly Rule[];
  /** The Azure portal of the cloud scanned, e.g. `https://portal.azure.com`. */
  portalUrl: string;
}

/** The context's rule with this id. */
export function ruleById(context: RenderContext, ruleId: string): Rule | undefined {
  return context.rules.find((rule) => rule.id === ruleId);
}
