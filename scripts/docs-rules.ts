/**
 * The part of docs/reference/rules.md that restates the rules' metadata (src/core/rules): each
 * rule's title, rationale, which policy key makes it required, its CIS, MCSB and Azure Policy
 * references, the controls of other frameworks it serves (with why and the mapping's source) and
 * its remediation. It is written from the metadata itself, between the markers
 * RULES_METADATA_START and RULES_METADATA_END, so the page cannot drift from what the reports and
 * the e-mails say; test/unit/docs/reference-docs.test.ts fails when the page is out of date.
 *
 *   npm run docs:rules              rewrite the section in place
 *   npm run docs:rules -- --check   exit 1 when the section is out of date, writing nothing
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { Policy } from '../src/core/model.js';
import { DEFAULT_POLICY } from '../src/core/policy.js';
import { RULES } from '../src/core/rules/index.js';
import type { Rule } from '../src/core/rules/rule.js';
import { frameworkControlsText } from '../src/report/framework-references.js';

export const RULES_PAGE = fileURLToPath(new URL('../docs/reference/rules.md', import.meta.url));
export const RULES_METADATA_START =
  '<!-- rules-metadata:start (written by `npm run docs:rules` from src/core/rules; do not edit by hand) -->';
export const RULES_METADATA_END = '<!-- rules-metadata:end -->';

/** The policy keys that can turn a rule off, each as a copy of the default policy with that key false. */
const REQUIRED_SWITCHES: { key: string; policy: Policy }[] = [
  { key: 'alerts.required', policy: { ...DEFAULT_POLICY, alerts: { ...DEFAULT_POLICY.alerts, required: false } } },
  { key: 'owners.required', policy: { ...DEFAULT_POLICY, owners: { required: false } } },
  { key: 'attackPaths.required', policy: { ...DEFAULT_POLICY, attackPaths: { ...DEFAULT_POLICY.attackPaths, required: false } } },
];

/** The policy keys that make the rule optional, found by asking the rule itself. */
function requiredSwitches(rule: Rule): string[] {
  return REQUIRED_SWITCHES.filter((candidate) => rule.isRequired(DEFAULT_POLICY) && !rule.isRequired(candidate.policy)).map(
    (candidate) => `\`${candidate.key}\``,
  );
}

/** For the summary table: `always`, or `unless alerts.required is false`. */
function requiredCell(rule: Rule): string {
  const switches = requiredSwitches(rule);
  return switches.length === 0 ? 'always' : `unless ${switches.join(' or ')} is \`false\``;
}

/** For a rule's section: a sentence. */
function requiredSentence(rule: Rule): string {
  const switches = requiredSwitches(rule);
  return switches.length === 0
    ? 'Always required: no policy key turns it off.'
    : `Required unless the policy sets ${switches.join(' or ')} to \`false\`.`;
}

/** Text for a table cell: pipes escaped, line breaks flattened. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** A fenced block whose fence is longer than any run of backticks inside it. */
function fenced(language: string, text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text.replace(/\n+$/, '')}\n${fence}`;
}

function summaryTable(rules: readonly Rule[]): string[] {
  return [
    '| rule | title | required | CIS Microsoft Azure Foundations Benchmark | MCSB | Azure Policy | other frameworks |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rules.map((rule) => {
      const cells = [
        `\`${rule.id}\``,
        cell(rule.title),
        requiredCell(rule),
        rule.references.cis.map((reference) => `${reference.version}: ${reference.recommendation}`).join('<br>'),
        rule.references.mcsb.join(', ') || 'none',
        rule.references.azurePolicy.map((policy) => `\`${policy.definitionId}\``).join('<br>') || 'none',
        cell(frameworkControlsText(rule).replaceAll('; ', '<br>')) || 'none',
      ];
      return `| ${cells.join(' | ')} |`;
    }),
  ];
}

/** The controls of other frameworks, each with why the rule serves it and where the mapping comes from. */
function frameworksTable(rule: Rule): string[] {
  if (rule.references.frameworks.length === 0) {
    return ['Other frameworks: none (see [Other frameworks](#other-frameworks) for why).'];
  }
  return [
    '| framework | control | title | why this rule serves it | source |',
    '| --- | --- | --- | --- | --- |',
    ...rule.references.frameworks.map(
      (reference) =>
        `| ${reference.framework} | ${reference.control} | ${cell(reference.title)} | ${cell(reference.reason)} | ${cell(reference.source)} |`,
    ),
  ];
}

type Shared = { restBody: boolean; bicep: boolean; terraform: boolean };

function ruleSection(rule: Rule, shared: Shared): string[] {
  const { references, remediation } = rule;
  const lines = [
    `### \`${rule.id}\`: ${rule.title}`,
    '',
    rule.rationale,
    '',
    requiredSentence(rule),
    '',
    '| benchmark | version | recommendation | title |',
    '| --- | --- | --- | --- |',
    ...references.cis.map(
      (reference) => `| ${reference.benchmark} | ${reference.version} | ${reference.recommendation} | ${cell(reference.title)} |`,
    ),
    '',
    `Microsoft cloud security benchmark: ${references.mcsb.length > 0 ? references.mcsb.join(', ') : 'none'}.`,
    '',
    references.azurePolicy.length > 0
      ? `Azure Policy built-in definition${references.azurePolicy.length === 1 ? '' : 's'}: ${references.azurePolicy
          .map((policy) => `${policy.displayName} (\`${policy.definitionId}\`)`)
          .join('; ')}.`
      : 'Azure Policy built-in definition: none has this setting.',
    '',
    ...frameworksTable(rule),
    '',
    `**Remediation.** ${remediation.summary}`,
    '',
    'In the portal:',
    '',
    ...remediation.portal.map((step, index) => `${index + 1}. ${step}`),
    '',
    'With the Azure CLI (bash):',
    '',
    fenced('sh', remediation.azCli),
  ];
  if (!shared.restBody) lines.push('', 'REST body:', '', fenced('json', JSON.stringify(remediation.restBody, null, 2)));
  if (!shared.bicep) lines.push('', 'Bicep:', '', fenced('bicep', remediation.bicep));
  if (!shared.terraform) lines.push('', 'Terraform (azapi provider):', '', fenced('hcl', remediation.terraform));
  return lines;
}

/** The generated section, markers excluded. */
export function renderRulesMetadata(rules: readonly Rule[] = RULES): string {
  const first = rules[0];
  const shared: Shared = {
    restBody: first !== undefined && rules.every((rule) => isDeepStrictEqual(rule.remediation.restBody, first.remediation.restBody)),
    bicep: first !== undefined && rules.every((rule) => rule.remediation.bicep === first.remediation.bicep),
    terraform: first !== undefined && rules.every((rule) => rule.remediation.terraform === first.remediation.terraform),
  };
  const lines = [...summaryTable(rules), ''];
  for (const rule of rules) lines.push(...ruleSection(rule, shared), '');
  if (first && (shared.restBody || shared.bicep || shared.terraform)) {
    lines.push(
      '### The body every remediation writes',
      '',
      'The REST PUT, the Bicep and the Terraform are the same for every rule: one write sets the whole contact, so it carries every setting the ' +
        "five rules need. Replace the example address with your security team's mailbox, and keep the addresses and settings " +
        'the contact already has that you still want; `contact-watch check` and `contact-watch fix --dry-run` print the body for ' +
        'one subscription with its own contact merged in.',
      '',
    );
    if (shared.restBody) {
      lines.push(
        '`PUT /subscriptions/{subscriptionId}/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview`:',
        '',
        fenced('json', JSON.stringify(first.remediation.restBody, null, 2)),
        '',
      );
    }
    if (shared.bicep) lines.push('Bicep (`security-contact.bicep`):', '', fenced('bicep', first.remediation.bicep), '');
    if (shared.terraform) {
      lines.push(
        'Terraform (`security-contact.tf`, the azapi provider; see [remediation.md](remediation.md#terraform) for why not azurerm):',
        '',
        fenced('hcl', first.remediation.terraform),
        '',
      );
    }
  }
  return lines.join('\n').replace(/\n+$/, '\n');
}

/** The page with its generated section replaced by the current one. */
export function withRulesMetadata(page: string, rules: readonly Rule[] = RULES): string {
  const start = page.indexOf(RULES_METADATA_START);
  const end = page.indexOf(RULES_METADATA_END);
  if (start < 0 || end < start) {
    throw new Error(`docs/reference/rules.md has no section between "${RULES_METADATA_START}" and "${RULES_METADATA_END}"`);
  }
  return `${page.slice(0, start + RULES_METADATA_START.length)}\n\n${renderRulesMetadata(rules)}\n${page.slice(end)}`;
}

function main(args: readonly string[]): number {
  const page = readFileSync(RULES_PAGE, 'utf8');
  const updated = withRulesMetadata(page);
  if (args.includes('--check')) {
    if (updated === page) return 0;
    process.stderr.write('docs/reference/rules.md is out of date with src/core/rules: run `npm run docs:rules`.\n');
    return 1;
  }
  if (updated !== page) writeFileSync(RULES_PAGE, updated);
  process.stdout.write(`docs/reference/rules.md: ${updated === page ? 'up to date' : 'rule metadata rewritten'}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
