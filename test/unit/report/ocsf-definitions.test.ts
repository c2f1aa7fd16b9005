/**
 * schema/ocsf-compliance-finding-1.6.0.json and the events of `scan --format ocsf` held to OCSF's
 * own definitions. The repository keeps no copy of them, so these tests run only when
 * OCSF_SCHEMA_DIR names a checkout of github.com/ocsf/ocsf-schema at v1.6.0:
 *
 *   git clone --branch v1.6.0 https://github.com/ocsf/ocsf-schema /tmp/ocsf-schema
 *   OCSF_SCHEMA_DIR=/tmp/ocsf-schema npx vitest run test/unit/report/ocsf-definitions.test.ts
 *
 * (With the variable set, test/unit/report/ocsf.test.ts and test/integration/cli/ocsf.test.ts check
 * each of their events against the definitions too.) They show:
 * - that the compiler (test/support/ocsf-schema.ts) reads the definitions as the OCSF server does;
 * - that every event is valid against the definitions;
 * - that our schema accepts nothing the definitions refuse: each attribute it allows is defined
 *   there with the same type, each attribute they require it requires, each id it allows is theirs
 *   with their caption; the planted bad events are refused by both; and of thousands of events
 *   altered from real ones, none that our schema accepts is refused by the definitions.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  OCSF_DEFINITIONS_NEEDED,
  OCSF_TEST_PROFILES,
  OcsfSchemaCompiler,
  ocsfDefinitionErrors,
  ocsfDefinitions,
  ocsfSchemaErrors,
  type AttributeDefinition,
  type ResolvedItem,
} from '../../support/ocsf-schema.js';
import { OCSF_VIOLATIONS, OUR_RESTRICTIONS } from './ocsf-bad-events.js';
import { buildReport, COMPLIANT, CONTEXT, NONCOMPLIANT_HOSTILE, REPORT, UNREADABLE } from './report-fixture.js';
import { renderReport, type RenderContext } from '../../../src/report/index.js';
import type { ScanReport } from '../../../src/core/model.js';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';

const definitions = ocsfDefinitions();
const OURS = JSON.parse(readFileSync(new URL('../../../schema/ocsf-compliance-finding-1.6.0.json', import.meta.url), 'utf8'));

function eventsOf(report: ScanReport, context: RenderContext = CONTEXT): any[] {
  return renderReport(report, 'ocsf', context)
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line));
}

/** The events of the report fixture (every status and contact shape), of a policy that requires less, and of a nameless subscription. */
function emittedEvents(): any[] {
  const relaxed = {
    ...CONTEXT,
    policy: { ...DEFAULT_POLICY, owners: { required: false }, alerts: { ...DEFAULT_POLICY.alerts, required: false } },
  };
  return [
    ...eventsOf(REPORT),
    ...eventsOf(buildReport([NONCOMPLIANT_HOSTILE, UNREADABLE]), relaxed),
    ...eventsOf(
      buildReport([
        { ...COMPLIANT, displayName: '' },
        { ...UNREADABLE, status: 'exempt' },
      ]),
    ),
  ];
}

describe.skipIf(!definitions)(`the OCSF 1.6.0 definitions (this ${OCSF_DEFINITIONS_NEEDED})`, () => {
  const compiler = definitions!;

  describe('compiled to JSON Schema', () => {
    const schema = (): any => compiler.classSchema('compliance_finding');

    it('computes the ids of the class as the OCSF server does', () => {
      const { properties } = schema();
      expect(properties.category_uid.enum).toEqual([2]);
      expect(properties.class_uid.enum).toEqual([2003]);
      expect(properties.type_uid.enum).toEqual([200300, 200301, 200302, 200303, 200399]);
      expect(properties.activity_id.enum).toEqual([0, 1, 2, 3, 99]);
      expect(properties.status_id.enum).toEqual([0, 1, 2, 3, 4, 5, 6, 99]);
    });

    it('requires what base_event, finding, compliance_finding and the cloud profile require, and closes the class', () => {
      const { required, additionalProperties, properties } = schema();
      const requiredByBaseEvent = ['activity_id', 'category_uid', 'class_uid', 'metadata', 'severity_id', 'time', 'type_uid'];
      const requiredByTheClass = ['finding_info', 'compliance', 'cloud'];
      expect(required).toEqual([...requiredByBaseEvent, ...requiredByTheClass].sort());
      expect(additionalProperties).toBe(false);
      expect(properties).toHaveProperty('api'); // the cloud profile's other attribute
      expect(properties).not.toHaveProperty('time_dt'); // the datetime profile is not applied
      expect(properties).not.toHaveProperty('resource'); // deprecated since 1.3.0
    });

    it('keeps deprecated attributes and values only when asked to', () => {
      const allowing = new OcsfSchemaCompiler(compiler.root, { profiles: OCSF_TEST_PROFILES, deprecated: 'allow' });
      const lenient: any = allowing.classSchema('compliance_finding');
      const strict: any = schema();
      expect(lenient.properties).toHaveProperty('resource');
      expect(lenient.$defs.compliance.properties).toHaveProperty('status_detail');
      expect(strict.$defs.compliance.properties).not.toHaveProperty('status_detail');
      expect(lenient.$defs.account.properties.type_id.enum).toContain(3);
      expect(strict.$defs.account.properties.type_id.enum).not.toContain(3);
    });

    it("ties each caption to its id, but for 99 Other, and turns an entity's name-or-uid into anyOf", () => {
      const { allOf, $defs } = schema();
      expect(allOf).toContainEqual({
        if: { properties: { status_id: { const: 4 } }, required: ['status_id', 'status'] },
        then: { properties: { status: { const: 'Resolved' } } },
      });
      expect(JSON.stringify(allOf)).not.toMatch(/"const":99\b/);
      expect($defs.product.anyOf).toEqual([{ required: ['name'] }, { required: ['uid'] }]);
    });

    it('refuses a directory that is not the OCSF schema at v1.6.0', () => {
      const dir = mkdtempSync(join(tmpdir(), 'not-ocsf-'));
      expect(() => ocsfDefinitions(dir)).toThrow(/not a checkout of github.com\/ocsf\/ocsf-schema/);
      // The layout of another release: what is checked first is its version.
      mkdirSync(join(dir, 'events'));
      writeFileSync(join(dir, 'dictionary.json'), '{}');
      writeFileSync(join(dir, 'version.json'), JSON.stringify({ version: '1.5.0' }));
      expect(() => ocsfDefinitions(dir)).toThrow(/holds OCSF 1.5.0, not 1.6.0: git clone --branch v1.6.0/);
      rmSync(dir, { recursive: true, force: true });
    });
  });

  describe('every event', () => {
    it('is valid against the definitions', () => {
      const events = emittedEvents();
      expect(events.length).toBeGreaterThan(40);
      for (const event of events) expect(ocsfDefinitionErrors(event), JSON.stringify(event)).toEqual([]);
    });

    it('of the example of docs/reference/report.md is valid against the definitions', () => {
      const page = readFileSync(new URL('../../../docs/reference/report.md', import.meta.url), 'utf8');
      const rest = page.slice(page.indexOf('## OCSF Compliance Findings'));
      const example = JSON.parse(rest.slice(rest.indexOf('```json\n') + 8, rest.indexOf('\n```', rest.indexOf('```json\n'))));
      expect(ocsfDefinitionErrors(example)).toEqual([]);
    });
  });

  describe('schema/ocsf-compliance-finding-1.6.0.json', () => {
    it('allows only attributes the definitions give the class and its objects, with their types, and requires what they require', () => {
      const problems = holdToDefinitions(compiler);
      expect(problems).toEqual([]);
    });

    const base = () => structuredClone(emittedEvents().find((e) => e.finding_info.uid.endsWith('/email-configured') && e.status === 'New'));

    it.each(OCSF_VIOLATIONS)('and the definitions both refuse %s', (_name, plant) => {
      const event = base();
      plant(event);
      expect(ocsfSchemaErrors(event)).not.toEqual([]);
      expect(ocsfDefinitionErrors(event)).not.toEqual([]);
    });

    it.each(OUR_RESTRICTIONS)('refuses %s, which the definitions allow', (_name, plant) => {
      const event = base();
      plant(event);
      expect(ocsfSchemaErrors(event)).not.toEqual([]);
      expect(ocsfDefinitionErrors(event)).toEqual([]);
    });

    it('accepts no altered event that the definitions refuse', () => {
      const outcomes = new Map<string, any>();
      for (const event of emittedEvents()) {
        const key = [
          event.status,
          event.compliance.status,
          event.severity,
          'data' in event.resources[1],
          'name' in event.cloud.account,
        ].join();
        if (!outcomes.has(key)) outcomes.set(key, event);
      }
      expect(outcomes.size).toBeGreaterThanOrEqual(8);
      let altered = 0;
      let acceptedByOurs = 0;
      const disagreements: string[] = [];
      for (const event of outcomes.values()) {
        for (const [change, variant] of alterations(event, compiler)) {
          altered += 1;
          if (ocsfSchemaErrors(variant).length > 0) continue;
          acceptedByOurs += 1;
          const refused = ocsfDefinitionErrors(variant);
          if (refused.length > 0) disagreements.push(`${change}: ${refused.join('; ')}`);
        }
      }
      expect(disagreements.slice(0, 20)).toEqual([]);
      expect(altered).toBeGreaterThan(5000);
      // Some alterations are still good events (an optional attribute left out, another display name): both accept those.
      expect(acceptedByOurs).toBeGreaterThan(50);
      console.info(`${altered} altered events: ${acceptedByOurs} accepted by our schema, all of them by the OCSF definitions too`);
    });
  });
});

// ---- our schema against the definitions, attribute by attribute ---------------------------------------

const defName = (ref: unknown) => (typeof ref === 'string' && ref.startsWith('#/$defs/') ? ref.slice('#/$defs/'.length) : undefined);

/** The OCSF type our schema gives a property: the `$defs` it refers to, through `items`/`prefixItems` for an array. */
function ourType(property: any): { type: string | undefined; isArray: boolean } {
  if (property.type === 'array') {
    const items = [property.items, ...(property.prefixItems ?? [])].filter((item) => typeof item === 'object');
    const types = [...new Set(items.map((item) => defName(item.$ref)))];
    return { type: types.length === 1 ? types[0] : `one of ${types.join(', ')}`, isArray: true };
  }
  return { type: defName(property.$ref), isArray: false };
}

/** Every subschema of an object schema that can pin its properties: itself, and the alternatives of its oneOf/anyOf and of its allOf's. */
function alternativesOf(object: any): any[] {
  const resolved = (schema: any) => (schema.$ref ? OURS.$defs[defName(schema.$ref)!] : schema);
  const spread = (schema: any): any[] => [schema, ...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].map(resolved);
  return [...spread(object), ...(object.allOf ?? []).flatMap((entry: any) => spread(resolved(entry)))];
}

/** The caption our schema ties to each id value: where one subschema pins both `idName` and `sibling` with `const`. */
function captionsOf(object: any, idName: string, sibling: string): Map<number, Set<string>> {
  const captions = new Map<number, Set<string>>();
  for (const schema of alternativesOf(object)) {
    const id = schema.properties?.[idName]?.const;
    const caption = schema.properties?.[sibling]?.const;
    if (id === undefined || caption === undefined) continue;
    captions.set(id, (captions.get(id) ?? new Set()).add(caption));
  }
  return captions;
}

function holdToDefinitions(compiler: OcsfSchemaCompiler): string[] {
  const problems: string[] = [];
  const visited = new Set<string>();
  const visit = (ours: any, definition: ResolvedItem, path: string) => {
    if (ours.additionalProperties !== false) problems.push(`${path} is not closed`);
    const required = new Set<string>(ours.required ?? []);
    for (const [name, attribute] of Object.entries(definition.attributes)) {
      if (attribute.requirement === 'required' && !required.has(name)) problems.push(`${path}.${name} is required by OCSF, not by ours`);
    }
    for (const list of [definition.constraints.at_least_one, definition.constraints.just_one]) {
      if (list && !list.some((name) => required.has(name))) problems.push(`${path} requires none of ${list.join(', ')}`);
    }
    for (const [name, property] of Object.entries<any>(ours.properties)) {
      const attribute = definition.attributes[name];
      if (!attribute) {
        problems.push(
          `${path}.${name} is not an attribute of OCSF's ${definition.name} (with the profiles ${OCSF_TEST_PROFILES.join(', ')})`,
        );
        continue;
      }
      if (attribute['@deprecated'] !== undefined) problems.push(`${path}.${name} is deprecated`);
      const { type, isArray } = ourType(property);
      if (type !== attribute.type || isArray !== Boolean(attribute.is_array)) {
        problems.push(
          `${path}.${name} is ${type}${isArray ? '[]' : ''} in ours, ${attribute.type}${attribute.is_array ? '[]' : ''} in OCSF`,
        );
        continue;
      }
      if (attribute.enum) problems.push(...enumProblems(compiler, ours, `${path}.${name}`, name, property, attribute));
      if (!compiler.isDataType(type!) && !visited.has(type!)) {
        visited.add(type!);
        const object = OURS.$defs[type!];
        if (!object) problems.push(`${path}.${name}: ours has no $defs/${type}`);
        else visit(object, compiler.objectDefinition(type!), type!);
      }
    }
  };
  visit(OURS, compiler.classDefinition('compliance_finding'), 'compliance_finding');
  return problems;
}

/** Each id our schema allows is one of OCSF's (not deprecated), and ours ties it to OCSF's caption. */
function enumProblems(
  compiler: OcsfSchemaCompiler,
  object: any,
  path: string,
  name: string,
  property: any,
  attribute: AttributeDefinition,
): string[] {
  const values = compiler.enumValues(attribute)!;
  const allowed: unknown[] = property.enum ?? (property.const !== undefined ? [property.const] : []);
  if (allowed.length === 0) return [`${path} allows any value, OCSF only ${Object.keys(values).join(', ')}`];
  const problems: string[] = [];
  const captions = attribute.sibling ? captionsOf(object, name, attribute.sibling) : new Map<number, Set<string>>();
  for (const value of allowed) {
    const ocsf = values[String(value)];
    if (!ocsf) {
      problems.push(`${path} allows ${String(value)}, which OCSF does not (or deprecates)`);
      continue;
    }
    if (!attribute.sibling) continue;
    const ours = [...(captions.get(value as number) ?? [])];
    if (ours.length !== 1 || ours[0] !== ocsf.caption) {
      problems.push(`${path} ${String(value)}: ours ties ${attribute.sibling} to ${JSON.stringify(ours)}, OCSF to "${ocsf.caption}"`);
    }
  }
  return problems;
}

// ---- altered events ---------------------------------------------------------------------------------------

/** Values of every JSON type, and of the edges of the integer types. */
const REPLACEMENTS: unknown[] = ['', 'x', 'Pass', 0, 1, -1, 1.5, 2 ** 31, 2 ** 53, true, false, null, [], ['x'], [1], {}, { uid: 'x' }];

/** The ids that carry a caption, with the caption's attribute: each is set to every id and caption OCSF lists for it. */
const CAPTIONED = [
  ['activity_id', 'activity_name'],
  ['severity_id', 'severity'],
  ['status_id', 'status'],
  ['type_uid', 'type_name'],
  ['class_uid', 'class_name'],
  ['category_uid', 'category_name'],
  ['type_id', 'type'],
] as const;

function pathsOf(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [path];
  const children = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [path, ...children.flatMap((key) => pathsOf((value as any)[key], [...path, key]))];
}

function at(event: any, path: (string | number)[]): any {
  return path.reduce((node, key) => node[key], event);
}

/** Events altered from `event` one change at a time (two for an id and its caption), each with what was changed. */
function* alterations(event: any, compiler: OcsfSchemaCompiler): Generator<[string, any]> {
  const captionSets = captionValues(compiler);
  for (const path of pathsOf(event)) {
    const where = path.join('.') || '(top)';
    if (path.length > 0) {
      const parentPath = path.slice(0, -1);
      const key = path[path.length - 1]!;
      const removed = structuredClone(event);
      const parent = at(removed, parentPath);
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      yield [`without ${where}`, removed];
      for (const replacement of REPLACEMENTS) {
        const replaced = structuredClone(event);
        at(replaced, parentPath)[key] = structuredClone(replacement);
        yield [`${where} = ${JSON.stringify(replacement)}`, replaced];
      }
    }
    const node = at(event, path);
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      const added = structuredClone(event);
      at(added, path).x_unknown = 1;
      yield [`${where} with x_unknown`, added];
      for (const [id, caption] of CAPTIONED) {
        if (!(id in node)) continue;
        const { ids, captions } = captionSets.get(id)!;
        for (const value of ids) {
          for (const text of [node[caption], ...captions]) {
            const changed = structuredClone(event);
            Object.assign(at(changed, path), { [id]: value, [caption]: text });
            yield [`${where}.${id} = ${value}, ${caption} = ${JSON.stringify(text)}`, changed];
          }
        }
      }
    }
  }
}

/** For each captioned id: every value and every caption the definitions list for it in the class and its objects (deprecated ones too), and ids they do not. */
function captionValues(compiler: OcsfSchemaCompiler): Map<string, { ids: number[]; captions: string[] }> {
  const items = [
    compiler.classDefinition('compliance_finding'),
    ...['account', 'analytic', 'check', 'compliance'].map((object) => compiler.objectDefinition(object)),
  ];
  const values = new Map<string, { ids: number[]; captions: string[] }>();
  for (const [id] of CAPTIONED) {
    const ids = new Set<number>([-1, 7, 100, 2001, 200101]);
    const captions = new Set<string>(['Other', 'Something else']);
    for (const item of items) {
      for (const [value, { caption }] of Object.entries(item.attributes[id]?.enum ?? {})) {
        ids.add(Number(value));
        if (caption !== undefined) captions.add(caption);
      }
    }
    values.set(id, { ids: [...ids], captions: [...captions] });
  }
  return values;
}
