/**
 * The references of a rule on the HTML report's "How to fix": its CIS recommendations, MCSB
 * controls, Azure Policy definitions (linked to the portal of the cloud scanned) and the controls
 * of other frameworks it serves, each with why and where the mapping comes from.
 */
import { policyDefinitionUrl } from '../core/azure-portal.js';
import type { Rule } from '../core/rules/rule.js';
import { controlsByFramework } from './framework-references.js';
import { html, type Html } from './html-tag.js';
import type { RenderContext } from './render-context.js';

export function ruleReferencesHtml(rule: Rule, context: RenderContext): Html | '' {
  const { cis, mcsb, azurePolicy, frameworks } = rule.references;
  if (cis.length + mcsb.length + azurePolicy.length + frameworks.length === 0) return '';
  return html`<h3>References</h3><ul class="refs">
        ${cis.map((c) => html`<li>${c.benchmark} ${c.version}, recommendation ${c.recommendation}: ${c.title}</li>`)}
        ${mcsb.map((m) => html`<li>Microsoft cloud security benchmark ${m}</li>`)}
        ${azurePolicy.map((p) => {
          const url = policyDefinitionUrl(context.portalUrl, p.definitionId);
          return html`<li>Azure Policy: ${url ? html`<a href="${url}" target="_blank" rel="noopener noreferrer">${p.displayName}</a>` : p.displayName} <code>${p.definitionId}</code></li>`;
        })}
      </ul>${frameworksHtml(rule)}`;
}

function frameworksHtml(rule: Rule): Html | '' {
  const groups = controlsByFramework(rule);
  if (groups.length === 0) return '';
  return html`
      <h3>Other frameworks</h3><ul class="refs">
        ${groups.map(
          (group) => html`<li>${group.framework}<ul>
          ${group.references.map(
            (reference) =>
              html`<li><strong>${reference.control}</strong> ${reference.title} — ${reference.reason} <span class="muted">Source: ${reference.source}.</span></li>`,
          )}
        </ul></li>`,
        )}
      </ul>`;
}
