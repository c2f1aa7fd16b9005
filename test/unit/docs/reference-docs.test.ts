/**
 * The user reference (docs/reference/) against the code it describes: every app setting, every
 * policy key, every command and long option of the command line, every rule with its title and
 * CIS references, and the rule metadata section written by `npm run docs:rules`. A setting, key,
 * option or rule added to the code without its page fails here. The docs are for users of a
 * clone of the repository, so nothing under docs/ may send them to material the clone lacks.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { APP_SETTING_NAMES } from '../../../src/compose/app-settings.js';
import { ALERT_SEVERITIES, ATTACK_PATH_RISK_LEVELS, FIX_RESULTS, SUBSCRIPTION_STATUSES } from '../../../src/core/model.js';
import { PolicyError, parsePolicy } from '../../../src/core/policy.js';
import { RULES } from '../../../src/core/rules/index.js';
import { renderRulesMetadata, withRulesMetadata } from '../../../scripts/docs-rules.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DOCS = join(REPO, 'docs');
const REFERENCE = join(DOCS, 'reference');

/** Pages of the reference written elsewhere; a link to one is not checked until it exists. */
const PAGES_WRITTEN_ELSEWHERE: string[] = [];

function page(name: string): string {
  return readFileSync(join(REFERENCE, name), 'utf8');
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** `code` as a page writes it. */
function code(text: string): string {
  return `\`${text}\``;
}

/** Fails naming what the page lacks, without printing the whole page. */
function expectMention(text: string, needle: string, where: string): void {
  expect(text.includes(needle), `${where} should contain ${needle}`).toBe(true);
}

/** Runs the command line in this process and returns what it printed. */
async function cliOutput(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const exit = await runCli(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: {} });
  return { code: exit, stdout, stderr };
}

/** The commands of `contact-watch --help` (commander's own `help` left out). */
function commandsOf(help: string): string[] {
  const section = help.slice(help.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((match) => match[1]!).filter((name) => name !== 'help');
}

/** The long options of one command's help (`--help` left out). */
function longOptionsOf(help: string): string[] {
  const section = help.slice(help.indexOf('Options:'));
  return [...section.matchAll(/^ {2}(?:-[a-zA-Z], )?(--[a-z][a-z-]*)/gm)].map((match) => match[1]!).filter((name) => name !== '--help');
}

/** The values of every `(choices: "a", "b")` in a help text. */
function choicesOf(help: string): string[] {
  const flat = help.replace(/\s+/g, ' ');
  return [...flat.matchAll(/choices: ([^)]*)\)/g)].flatMap((match) => [...match[1]!.matchAll(/"([^"]+)"/g)].map((value) => value[1]!));
}

/** The dotted paths of the leaves of a value (`alerts.required`, …); arrays are leaves. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, prefix ? `${prefix}.${key}` : key));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a page's headings, with GitHub's `-1`, `-2` for repeated ones. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const withoutFences = markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, '');
  for (const match of withoutFences.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(match[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

describe('docs/reference/settings.md', () => {
  const settings = page('settings.md');

  it.each([...APP_SETTING_NAMES])('describes the app setting %s', (name) => {
    expectMention(settings, code(name), 'settings.md');
  });

  it.each(['CONTACT_WATCH_USER', 'CONTACT_WATCH_DEBUG', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', 'NODE_EXTRA_CA_CERTS'])(
    'describes %s, which is read outside the app settings schema',
    (name) => {
      expectMention(settings, code(name), 'settings.md');
    },
  );
});

describe('docs/reference/policy.md', () => {
  const policy = page('policy.md');
  const keys = leafPaths(parsePolicy({}, 'test'));

  it('is checked against every key the parser fills in', () => {
    expect(keys).toEqual(expect.arrayContaining(['alerts.required', 'alerts.minimalSeverity', 'remediation.emails']));
  });

  it('has every key the parser accepts: it refuses any other, at every level', () => {
    const sections = [...new Set(keys.map((key) => key.split('.')[0]!))];
    const refuses = (input: unknown) => expect(() => parsePolicy(input, 'test')).toThrow(PolicyError);
    refuses({ notAKey: {} });
    for (const section of sections) refuses({ [section]: { notAKey: true } });
  });

  it.each(keys)('describes the key %s', (key) => {
    expectMention(policy, code(key), 'policy.md');
  });

  it('names every severity and risk level the thresholds take', () => {
    for (const level of [...ALERT_SEVERITIES, ...ATTACK_PATH_RISK_LEVELS]) expectMention(policy, `"${level}"`, 'policy.md');
  });
});

describe('docs/reference/cli.md', async () => {
  const cli = page('cli.md');
  const top = await cliOutput(['--help']);
  const commands = commandsOf(top.stdout);

  it('is checked against the commands of contact-watch --help', () => {
    expect(top.code).toBe(0);
    expect(commands).toEqual(expect.arrayContaining(['scan', 'check', 'fix', 'exempt', 'unexempt', 'exemptions']));
  });

  it.each(commands)('has a section for the command %s', (command) => {
    expectMention(cli, `## ${code(command)}`, 'cli.md');
  });

  it.each(commands)('describes every long option and choice of %s', async (command) => {
    const help = await cliOutput([command, '--help']);
    expect(help.code).toBe(0);
    const options = longOptionsOf(help.stdout);
    const choices = choicesOf(help.stdout);
    const missing = [
      ...options.filter((option) => !cli.includes(code(option)) && !cli.includes(`\`${option} `)),
      ...choices.filter((choice) => !cli.includes(code(choice))),
    ];
    expect(missing).toEqual([]);
  });
});

describe('docs/reference/rules.md', () => {
  const rules = page('rules.md');

  it.each(RULES.map((rule) => [rule.id, rule] as const))('describes %s with its title', (id, rule) => {
    expectMention(rules, `### ${code(id)}`, 'rules.md');
    expectMention(rules, rule.title, 'rules.md');
  });

  it.each(RULES.flatMap((rule) => rule.references.cis.map((reference) => [rule.id, reference.version, reference] as const)))(
    'gives %s its CIS reference of benchmark %s',
    (_id, _version, reference) => {
      expectMention(
        rules,
        `| ${reference.benchmark} | ${reference.version} | ${reference.recommendation} | ${reference.title} |`,
        'rules.md',
      );
    },
  );

  it('names every status', () => {
    for (const status of SUBSCRIPTION_STATUSES) expectMention(rules, `| ${code(status)} |`, 'rules.md');
  });

  it('holds the rule metadata section as `npm run docs:rules` writes it', () => {
    expect(renderRulesMetadata()).toContain(RULES[0]!.rationale);
    expect(withRulesMetadata(rules) === rules, 'docs/reference/rules.md is out of date: run `npm run docs:rules`').toBe(true);
  });
});

describe('docs/reference/remediation.md', () => {
  it('names every result of a fix', () => {
    const remediation = page('remediation.md');
    for (const result of FIX_RESULTS) expectMention(remediation, `| ${code(result)} |`, 'remediation.md');
  });
});

describe('what users read: README, docs/, the sources and --help', () => {
  // The sources are read too: their comments and messages are what a user of the code meets.
  const readable = [
    join(REPO, 'README.md'),
    ...filesUnder(DOCS).filter((file) => file.endsWith('.md')),
    ...filesUnder(join(REPO, 'src')).filter((file) => /\.(ts|css|js)$/.test(file)),
    ...filesUnder(join(REPO, 'infra')).filter((file) => /\.(bicep|json|md|sh|ps1)$/.test(file)),
  ];

  it.each(readable.map((file) => relative(REPO, file)))('%s sends no one to material a clone of the repository lacks', (file) => {
    const text = readFileSync(join(REPO, file), 'utf8');
    expect(text.includes('../shared'), `${file} mentions ../shared`).toBe(false);
    expect(/\bCONTRACT(\.md)?\b/.test(text), `${file} mentions CONTRACT`).toBe(false);
  });

  // The event subscriptions deliver with endpointType AzureFunction (infra/modules/*-topic.bicep):
  // what is about Event Grid never calls its delivery a webhook. The alert channel of that name
  // (docs/reference/alerts.md) is another thing, and may be named anywhere else.
  const EVENT_GRID_FILES = [
    'docs/reference/events.md',
    'infra/modules/event-topic.bicep',
    'infra/modules/subscription-hook.bicep',
    'infra/modules/subscription-hook-topic.bicep',
    'infra/vending/README.md',
    'src/app/events.ts',
    'src/app/handlers/contact-events.ts',
    'src/functions/contact-events.ts',
  ];

  it.each(EVENT_GRID_FILES)('%s, about Event Grid, never says webhook', (file) => {
    expect(readFileSync(join(REPO, file), 'utf8')).not.toMatch(/webhook/i);
  });

  /** "webhook" within a sentence (or a line of a table or a template) of Event Grid words. */
  const WEBHOOK_NEAR_EVENT_GRID =
    /(event ?grid|event subscription|endpointType|system topic|custom topic)[^.\n]{0,100}web ?hook|web ?hook[^.\n]{0,100}(event ?grid|event subscription|endpointType|system topic|custom topic)/i;

  it.each(readable.map((file) => relative(REPO, file)))(
    '%s calls the Event Grid delivery what the templates make it, not a webhook',
    (file) => {
      expect(readFileSync(join(REPO, file), 'utf8')).not.toMatch(WEBHOOK_NEAR_EVENT_GRID);
    },
  );

  it('the Event Grid check still catches a webhook where it would mislead', () => {
    expect('The Event Grid subscription delivers to a webhook.').toMatch(WEBHOOK_NEAR_EVENT_GRID);
    expect('A webhook, as the custom topic calls it.').toMatch(WEBHOOK_NEAR_EVENT_GRID);
    expect('The Event Grid trigger re-evaluates one subscription.').not.toMatch(WEBHOOK_NEAR_EVENT_GRID);
  });

  it('--help of every command names no document outside the repository', async () => {
    let help = '';
    const io = { stdout: (text: string) => (help += text), stderr: (text: string) => (help += text), env: {} };
    await runCli(['--help'], io);
    for (const command of ['scan', 'check', 'fix', 'exempt', 'unexempt', 'exemptions', 'outbox', 'requeue'])
      await runCli([command, '--help'], io);
    expect(help).toContain('contact-watch');
    expect(help).not.toMatch(/CONTRACT|\.\.\/shared/);
  });
});

describe('the pages under docs/', () => {
  const files = filesUnder(DOCS).filter((file) => file.endsWith('.md'));

  it.each(files.map((file) => relative(REPO, file)))('%s sends no one to material a clone of the repository lacks', (file) => {
    const text = readFileSync(join(REPO, file), 'utf8');
    expect(text.includes('../shared'), `${file} mentions ../shared`).toBe(false);
    expect(text.includes('CONTRACT.md'), `${file} mentions CONTRACT.md`).toBe(false);
  });

  it('docs/reference/index.md lists every page of the reference', () => {
    const index = page('index.md');
    const pages = readdirSync(REFERENCE).filter((name) => name.endsWith('.md') && name !== 'index.md');
    expect(pages.filter((name) => !index.includes(`](${name})`))).toEqual([]);
  });

  it.each(readdirSync(REFERENCE).filter((name) => name.endsWith('.md')))('the links of docs/reference/%s lead somewhere', (name) => {
    const text = page(name);
    const broken: string[] = [];
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      if (/^[a-z]+:/i.test(target)) continue;
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? join(REFERENCE, name) : resolve(dirname(join(REFERENCE, name)), path);
      let exists = true;
      try {
        statSync(file);
      } catch {
        exists = false;
      }
      if (!exists) {
        if (!PAGES_WRITTEN_ELSEWHERE.includes(relative(REFERENCE, file))) broken.push(target);
        continue;
      }
      if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });
});
