import type { Policy } from '../core/model.js';
import type { Rule } from '../core/rules/rule.js';

/** What a formatter needs beyond the report itself. */
export interface RenderContext {
  /** The rules with their metadata (titles, rationale, references, remediation). */
  rules: readonly Rule[];
  /** The Azure portal of the cloud scanned, e.g. `https://portal.azure.com`. */
  portalUrl: string;
  /** The policy the scan judged by (the OCSF format's severities say whether it requires a rule). */
  policy?: Policy;
  /** contact-watch's version, as `--version` reports it (the OCSF format's `metadata.product.version`). */
  productVersion?: string;
}

/** The context's rule with this id. */
export function ruleById(context: RenderContext, ruleId: string): Rule | undefined {
  return context.rules.find((rule) => rule.id === ruleId);
}
