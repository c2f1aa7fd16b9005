/**
 * The rule table in README.md ("What it checks", between the rule-table markers) names each rule
 * by its id, title and CIS references. Those live in the rules' metadata (src/core/rules/), so a
 * rule renamed, retitled or mapped to another recommendation must change the README with it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../../src/core/rules/index.js';
import type { Rule } from '../../../src/core/rules/rule.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const START = '<!-- rule-table:start';
const END = '<!-- rule-table:end -->';
const HEADER = ['rule', 'title', 'passes when', 'CIS Microsoft Azure Foundations'];

/** The cells of a Markdown table row: split at pipes that are not escaped, trimmed. */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** The table's rows between the markers, header and separator first. */
function ruleTableRows(markdown: string): string[][] {
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no rule table between "${START} …" and "${END}"`);
  return markdown
    .slice(markdown.indexOf('\n', start) + 1, end)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(cells);
}

/** How the README writes a rule's CIS references: `1.3.0 2.13 · 2.0.0 2.1.19 · …`. */
function cisCell(rule: Rule): string {
  return rule.references.cis.map((reference) => `${reference.version} ${reference.recommendation}`).join(' · ');
}

describe('the README rule table', () => {
  const [header, separator, ...rows] = ruleTableRows(README);

  it('has the columns rule, title, passes when and CIS Microsoft Azure Foundations', () => {
    expect(header).toEqual(HEADER);
    expect(separator).toEqual(HEADER.map(() => '---'));
  });

  it('lists every rule of the registry, in its order, by id', () => {
    expect(rows.map((row) => row[0])).toEqual(RULES.map((rule) => `\`${rule.id}\``));
  });

  it.each(RULES.map((rule, index) => [rule.id, rule, index] as const))('gives %s its title and CIS references', (_id, rule, index) => {
    const row = rows[index];
    expect(row).toHaveLength(HEADER.length);
    expect(row?.[1], 'title').toBe(rule.title);
    expect(row?.[2], 'passes when').not.toBe('');
    expect(row?.[3], 'CIS references').toBe(cisCell(rule));
  });
});
