/**
 * A rule's controls in other frameworks (NIST SP 800-53 Rev. 5, ISO/IEC 27001:2022, PCI DSS 4.0,
 * SOC 2), grouped by framework in the order the rule lists them, for the reports that show them
 * in short: `NIST SP 800-53 Rev. 5 IR-4, IR-6; SOC 2 CC7.4`.
 */
import type { ControlFramework, FrameworkReference, Rule } from '../core/rules/rule.js';

export interface FrameworkControls {
  framework: ControlFramework;
  references: FrameworkReference[];
}

export function controlsByFramework(rule: Rule): FrameworkControls[] {
  const groups: FrameworkControls[] = [];
  for (const reference of rule.references.frameworks) {
    const group = groups.find((candidate) => candidate.framework === reference.framework);
    if (group) group.references.push(reference);
    else groups.push({ framework: reference.framework, references: [reference] });
  }
  return groups;
}

/** `NIST SP 800-53 Rev. 5 IR-4, IR-6; SOC 2 CC7.4`, or '' for a rule mapped to none. */
export function frameworkControlsText(rule: Rule): string {
  return controlsByFramework(rule)
    .map((group) => `${group.framework} ${group.references.map((reference) => reference.control).join(', ')}`)
    .join('; ');
}
