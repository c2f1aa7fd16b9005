/**
 * The Terraform form of a fix, read back with HashiCorp's own HCL parser (@cdktf/hcl2json, a
 * WebAssembly build of it): the file parses, the azapi_resource is the subscription's `default`
 * contact in the 2023-12-01-preview API, and its body is the very body the REST PUT sends, for the
 * rules' generic fix, for merged fixes of the Azure REST examples, and for any text Azure could
 * return, which must never become an interpolation, a directive or a reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeContactFix } from '../../../src/core/contact-merge.js';
import { evaluateContact } from '../../../src/core/evaluate.js';
import { hclKey, hclString, hclValue } from '../../../src/core/hcl.js';
import type { ContactShape, SecurityContactPutBody, SubscriptionContact } from '../../../src/core/model.js';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import { RULES } from '../../../src/core/rules/index.js';
import { terraformForSubscription } from '../../../src/core/rules/remediation.js';
import { contactOf, item2017, item2020, item2023, policyWith } from './rules/rule-test-kit.js';
import { parseHcl } from '../../support/hcl-parser.js';

/** A UTF-16 surrogate not part of a pair (tested apart: HCL cannot hold one). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const SUBSCRIPTION = '02ff152c-0fdc-4f12-ba16-9e5eb2f38b96';

/**
 * hcl2json gives Terraform's JSON syntax, whose strings are templates again: a literal `${` comes
 * back as `$${`, an interpolation as `${…}`. This reads a string back as the literal it must be,
 * and fails on anything that is not one.
 */
function literal(text: string): string {
  return text.replace(/\$\$\{|%%\{|\$\{|%\{/g, (sequence) => {
    if (sequence === '${' || sequence === '%{') throw new Error(`not a literal string: ${JSON.stringify(text)}`);
    return sequence.slice(1);
  });
}

function literalValue(value: unknown): unknown {
  if (typeof value === 'string') return literal(value);
  if (Array.isArray(value)) return value.map(literalValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [literal(key), literalValue(member)]));
  }
  return value;
}

interface ParsedFile {
  terraform?: { required_providers?: { azapi?: { source?: string; version?: string } }[] }[];
  import?: { to: string; id: string }[];
  resource?: { azapi_resource?: { security_contact?: Record<string, unknown>[] } };
}

/** The file as hcl2json reads it, its strings read back as literals; `import.to` is a reference, as Terraform wants it. */
async function parseTerraform(text: string): Promise<ParsedFile> {
  const { import: imports, ...rest } = (await parseHcl('security-contact.tf', text)) as ParsedFile;
  const literals = literalValue(rest) as ParsedFile;
  return imports === undefined ? literals : { ...literals, import: imports.map(({ to, id }) => ({ to, id: literal(id) })) };
}

async function securityContact(text: string): Promise<Record<string, unknown>> {
  const resources = (await parseTerraform(text)).resource?.azapi_resource?.security_contact;
  expect(resources).toHaveLength(1);
  return resources![0]!;
}

/** The merged fix of a contact under a policy, which must be a write. */
function mergedBody(contact: SubscriptionContact, policy = DEFAULT_POLICY): SecurityContactPutBody {
  const fix = mergeContactFix(contact, evaluateContact(contact, policy).findings, policy);
  if (fix.kind !== 'put') throw new Error(`expected a put, got ${JSON.stringify(fix)}`);
  return fix.body;
}

/** `value` with every string, and every key, in Unicode NFC. */
function nfc(value: unknown): unknown {
  if (typeof value === 'string') return value.normalize('NFC');
  if (Array.isArray(value)) return value.map(nfc);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key.normalize('NFC'), nfc(member)]));
  }
  return value;
}

describe("the rules' generic Terraform", () => {
  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s: an azapi_resource whose body is its REST body', async (_id, rule) => {
    const { terraform, restBody } = rule.remediation;
    const parsed = await parseTerraform(terraform);
    expect(parsed.terraform?.[0]?.required_providers?.[0]?.azapi).toEqual({ source: 'Azure/azapi', version: '~> 2.0' });
    // Whether a contact named default exists is not known here: the import is offered, commented out.
    expect(parsed.import).toBeUndefined();
    expect(terraform).toContain('# import {');
    const resource = await securityContact(terraform);
    expect(resource).toEqual({
      type: 'Microsoft.Security/securityContacts@2023-12-01-preview',
      name: 'default',
      parent_id: '/subscriptions/<subscription-id>',
      body: restBody,
    });
    expect(terraform).not.toContain('jsonencode');
  });
});

describe('terraformForSubscription', () => {
  const cases: { name: string; contact: () => SubscriptionContact; shape: ContactShape; imports: boolean }[] = [
    {
      name: 'a 2023 contact without attack paths',
      contact: () => contactOf(item2023({ notificationsSources: [] })),
      shape: '2023-12-01-preview',
      imports: true,
    },
    {
      name: 'a 2020 contact with alert e-mails off',
      contact: () => contactOf(item2020({ alertNotifications: { state: 'Off' } })),
      shape: '2020-01-01-preview',
      imports: true,
    },
    {
      name: 'a 2017 contact with an address on a placeholder domain',
      contact: () => contactOf(item2017({ email: 'jane@fabrikam.com;john@contoso.com' }, 'default')),
      shape: '2017-08-01-preview',
      imports: false,
    },
    { name: 'no contact at all', contact: () => contactOf(), shape: 'none', imports: false },
  ];

  it.each(cases)('writes the merged body of $name, and takes over an existing default contact', async ({ contact, shape, imports }) => {
    const policy = policyWith({ remediation: { emails: ['secops@fabrikam.com'] } });
    const body = mergedBody(contact(), policy);
    const text = terraformForSubscription(SUBSCRIPTION.toUpperCase(), body, shape, false);
    const parsed = await parseTerraform(text);
    const id = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview`;
    expect(parsed.import).toEqual(imports ? [{ to: '${azapi_resource.security_contact}', id }] : undefined);
    expect(text.includes(`# import {`)).toBe(shape === '2017-08-01-preview');
    expect(await securityContact(text)).toEqual({
      type: 'Microsoft.Security/securityContacts@2023-12-01-preview',
      name: 'default',
      parent_id: `/subscriptions/${SUBSCRIPTION}`,
      body,
    });
  });

  it('says to replace the example address when the body holds it', () => {
    const body = mergedBody(contactOf(item2023({ emails: 'admin@contoso.com' })));
    expect(terraformForSubscription(SUBSCRIPTION, body, '2023-12-01-preview', true)).toContain(
      "# Replace secops@your-company.internal with your security team's shared mailbox first.",
    );
  });

  it('refuses a subscription id that is not a GUID, as it goes into the file', () => {
    const body = mergedBody(contactOf());
    expect(() => terraformForSubscription('x" }\nresource "evil" {', body, 'none', false)).toThrow(RangeError);
  });
});

describe('HCL strings and keys', () => {
  const hostile = [
    'plain@fabrikam.com',
    'quote " and backslash \\ and \\" both',
    '${var.secret}',
    '%{ if true }x%{ endif }',
    '$${already escaped} %%{ too }',
    '$$${b} %%%{c}',
    'ends with $',
    'ends with %',
    '$ { not a sequence } % {',
    '\\${x}',
    'line\nbreak\r\ttab\u0000nul\u001b[31m',
    'bidi \u202eevil\u202c and \u2066isolate\u2069',
    'astral 😀 and é',
    '',
  ];

  it.each(hostile)('writes %j so that HCL reads exactly it, in a value and as a key', async (text) => {
    const body = { properties: { emails: text, notificationsSources: [{ sourceType: 'Alert', [text]: text }] } };
    const written = `value = ${hclValue(body)}\n`;
    expect(written).toMatch(/^[\x20-\x7e\n]*$/);
    expect((await parseTerraform(written)) as unknown).toEqual({ value: body });
  });

  it('leaves keys that are HCL names bare and quotes the others', () => {
    expect(['emails', 'x-y', '_a1'].map(hclKey)).toEqual(['emails', 'x-y', '_a1']);
    expect(['for', 'null', 'true', 'in', '1a', 'a b', 'a.b', 'é', ''].map(hclKey)).toEqual([
      '"for"',
      '"null"',
      '"true"',
      '"in"',
      '"1a"',
      '"a b"',
      '"a.b"',
      '"\\u00E9"',
      '""',
    ]);
  });

  it('writes a lone surrogate, which no UTF-8 file can hold, as U+FFFD', async () => {
    expect(hclString('a\ud800b')).toBe('"a\\uFFFDb"');
    expect(await parseTerraform(`value = ${hclString('a\ud800b')}\n`)).toEqual({ value: 'a\ufffdb' });
  });

  it('writes text in Unicode NFC, the only form HCL and Terraform hold strings in', async () => {
    expect(hclString('cafe\u0301 \uF900')).toBe('"caf\\u00E9 \\u8C48"');
    expect(await parseTerraform(`value = ${hclString('cafe\u0301')}\n`)).toEqual({ value: 'caf\u00e9' });
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => hclValue(Number.NaN)).toThrow(TypeError);
    expect(() => hclValue(undefined)).toThrow(TypeError);
  });

  it('reads back any JSON a contact could hold', async () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 }).filter((value) => !LONE_SURROGATE.test(value));
    // Keys that NFC makes equal would be one attribute twice, which HCL rightly refuses.
    const nfcKeys = (record: Record<string, unknown>) =>
      new Set(Object.keys(record).map((key) => key.normalize('NFC'))).size === Object.keys(record).length;
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.boolean(),
        fc.constant(null),
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((value) => !Object.is(value, -0)),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(text, tie('value'), { maxKeys: 3 }).filter(nfcKeys),
      ),
    })).value;
    await fc.assert(
      fc.asyncProperty(fc.dictionary(text, json, { maxKeys: 4 }).filter(nfcKeys), async (properties) => {
        const parsed = await parseTerraform(`value = ${hclValue({ properties })}\n`);
        expect(parsed).toEqual({ value: { properties: nfc(properties) } });
      }),
      { numRuns: 60 },
    );
  });
});
