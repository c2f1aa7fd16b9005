/**
 * The events of `scan --format ocsf` against two schemas:
 *
 * - ours, schema/ocsf-compliance-finding-1.6.0.json: the subset of OCSF 1.6.0 that contact-watch
 *   writes, closed, with the enum values it uses and their captions. Every test checks every event
 *   against it (`ocsfEventErrors`).
 * - OCSF's own definitions, compiled here into a JSON Schema, when OCSF_SCHEMA_DIR names a checkout
 *   of github.com/ocsf/ocsf-schema at v1.6.0 (`git clone --branch v1.6.0
 *   https://github.com/ocsf/ocsf-schema`). The repository keeps no copy of them, so this check is
 *   optional: with the variable set, `ocsfEventErrors` checks each event against both, and
 *   test/unit/report/ocsf-definitions.test.ts holds our schema to the definitions.
 *
 * OCSF keeps its own definition language, not JSON Schema: a dictionary of attributes and data
 * types, objects and event classes that `extends` one another, `$include`d profiles, enums that
 * each level adds to, and constraints. The OCSF server compiles that into JSON Schema at
 * /export/json_schema; OcsfSchemaCompiler does the same compilation for one class, offline:
 *
 * - attributes: the dictionary's definition, then each `extends` ancestor's and the class's (or
 *   object's) own, merged deeply in that order, so a later level overrides a key and adds enum values;
 * - `$include`: the included file's attributes under the item's own; a profile's attributes carry
 *   its name, and are kept only when that profile is applied (`profiles`), as the server does;
 * - `requirement: required` → `required`; every object closed (`additionalProperties: false`), so a
 *   misspelt attribute fails; `at_least_one` / `just_one` constraints → `anyOf` / `oneOf`;
 * - data types: string_t, integer_t, long_t, timestamp_t, float_t, boolean_t, json_t and the types
 *   derived from them (their regex, max_len and range); an object type → a `$ref` to its `$defs` entry;
 * - enums closed to the values listed (0 Unknown and 99 Other where the schema lists them);
 *   `class_uid`, `category_uid` and `type_uid` (class_uid × 100 + activity_id) computed as the
 *   server computes them; a sibling string (`status` of `status_id`) must be its value's caption,
 *   except for 99 Other, where the source names it;
 * - with `deprecated: 'reject'`, attributes and enum values the schema deprecates are left out, so
 *   an event that uses one fails (stricter than the schema: the events should not start out deprecated).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { OCSF_EVENT_SCHEMA, schemaErrors } from './report-schema.js';

/** The OCSF version the events are written in, and whose definitions the optional check reads. */
export const OCSF_TEST_SCHEMA_VERSION = '1.6.0';

/** The profiles `scan --format ocsf` applies, as its events' `metadata.profiles` name them. */
export const OCSF_TEST_PROFILES = ['cloud'] as const;

/** OCSF_SCHEMA_DIR: a checkout of github.com/ocsf/ocsf-schema at v1.6.0, or undefined when it is not set. */
export const OCSF_DEFINITIONS_DIR: string | undefined = process.env.OCSF_SCHEMA_DIR?.trim()
  ? resolvePath(process.env.OCSF_SCHEMA_DIR.trim())
  : undefined;

/** What a test that needs the definitions says when it is skipped. */
export const OCSF_DEFINITIONS_NEEDED =
  'needs OCSF_SCHEMA_DIR, a checkout of github.com/ocsf/ocsf-schema at v1.6.0 (git clone --branch v1.6.0 https://github.com/ocsf/ocsf-schema)';

export type EnumValues = Record<string, { caption?: string; '@deprecated'?: unknown }>;

export interface AttributeDefinition {
  caption?: string;
  type?: string;
  is_array?: boolean;
  enum?: EnumValues;
  requirement?: string;
  profile?: string | null;
  sibling?: string;
  '@deprecated'?: unknown;
}

export interface ItemDefinition {
  name: string;
  caption: string;
  extends?: string;
  uid?: number;
  category?: string;
  meta?: string;
  constraints?: { at_least_one?: string[]; just_one?: string[] };
  attributes: Record<string, AttributeDefinition>;
}

interface TypeDefinition {
  type?: string;
  regex?: string;
  max_len?: number;
  range?: [number, number];
}

export interface OcsfSchemaOptions {
  /** The profiles the events apply (their `metadata.profiles`). */
  profiles: readonly string[];
  /** `reject`: deprecated attributes and enum values are not allowed. */
  deprecated: 'allow' | 'reject';
}

type JsonSchema = Record<string, unknown>;

const BASE_TYPES: Record<string, JsonSchema> = {
  string_t: { type: 'string' },
  integer_t: { type: 'integer' },
  long_t: { type: 'integer' },
  float_t: { type: 'number' },
  boolean_t: { type: 'boolean' },
  json_t: {},
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The OCSF compiler's merge: maps merge key by key, anything else from `over` replaces `under`. */
function deepMerge<T>(under: T, over: unknown): T {
  if (!isPlainObject(under) || !isPlainObject(over)) return (over === undefined ? under : over) as T;
  const merged: Record<string, unknown> = { ...under };
  for (const [key, value] of Object.entries(over)) merged[key] = key in merged ? deepMerge(merged[key], value) : value;
  return merged as T;
}

/** A class or an object as an event may use it: its attributes merged over the dictionary's, profiles applied. */
export interface ResolvedItem {
  name: string;
  caption: string;
  constraints: { at_least_one?: string[]; just_one?: string[] };
  /** Every attribute of the item under the profiles applied, deprecated ones included (they carry `@deprecated`). */
  attributes: Record<string, AttributeDefinition>;
}

/** Compiles OCSF event classes of one schema directory into JSON Schemas. */
export class OcsfSchemaCompiler {
  private readonly dictionary: Record<string, AttributeDefinition>;
  private readonly types: Record<string, TypeDefinition>;
  private readonly categories: Record<string, { uid: number; caption: string }>;
  private readonly classFiles = new Map<string, string>();

  constructor(
    readonly root: string,
    private readonly options: OcsfSchemaOptions,
  ) {
    const dictionary = this.read('dictionary.json') as {
      attributes: Record<string, AttributeDefinition>;
      types: { attributes: Record<string, TypeDefinition> };
    };
    this.dictionary = dictionary.attributes;
    this.types = dictionary.types.attributes;
    this.categories = (this.read('categories.json') as { attributes: Record<string, { uid: number; caption: string }> }).attributes;
    for (const file of readdirSync(join(root, 'events'), { recursive: true, encoding: 'utf8' })) {
      if (file.endsWith('.json')) this.classFiles.set((this.read(join('events', file)) as ItemDefinition).name, join('events', file));
    }
  }

  private read(file: string): unknown {
    return JSON.parse(readFileSync(join(this.root, file), 'utf8'));
  }

  /** A definition file with its `$include`s resolved: own attributes over included ones. */
  private readItem(file: string): ItemDefinition {
    const item = this.read(file) as ItemDefinition;
    const { $include, ...own } = item.attributes as Record<string, unknown>;
    const includes = $include === undefined ? [] : Array.isArray($include) ? ($include as string[]) : [$include as string];
    let attributes = own as Record<string, AttributeDefinition>;
    for (const included of includes) {
      const other = this.readItem(included);
      const tagged = Object.fromEntries(
        Object.entries(other.attributes).map(([name, attribute]) => [
          name,
          other.meta === 'profile' && !('profile' in attribute) ? { ...attribute, profile: other.name } : attribute,
        ]),
      );
      attributes = deepMerge(tagged, attributes);
    }
    return { ...item, attributes };
  }

  /** The item with every `extends` ancestor merged under it. */
  private resolve(file: string, lookup: (name: string) => string): ItemDefinition {
    const item = this.readItem(file);
    if (item.extends === undefined) return item;
    const parent = this.resolve(lookup(item.extends), lookup);
    const { extends: _extends, ...rest } = { ...parent, ...item };
    return { ...rest, attributes: deepMerge(parent.attributes, item.attributes) };
  }

  private classFile = (name: string): string => {
    const file = this.classFiles.get(name);
    if (!file) throw new Error(`OCSF schema: no event class named ${name}`);
    return file;
  };

  private objectFile = (name: string): string => join('objects', `${name}.json`);

  /** The class with its computed ids: `category_uid`, `class_uid` and `type_uid` each closed to the values the server computes. */
  private resolveClass(name: string): ItemDefinition {
    const item = this.resolve(this.classFile(name), this.classFile);
    const category = this.categories[item.category ?? ''];
    if (!category || item.uid === undefined) throw new Error(`OCSF schema: ${name} has no category or uid`);
    const classUid = category.uid * 1000 + item.uid;
    const activities = deepMerge(this.dictionary.activity_id?.enum ?? {}, item.attributes.activity_id?.enum ?? {});
    // The server replaces these enums outright: the base event's "0 Uncategorized" does not carry over.
    const attributes = {
      ...item.attributes,
      category_uid: { ...item.attributes.category_uid, enum: { [category.uid]: { caption: category.caption } } },
      class_uid: { ...item.attributes.class_uid, enum: { [classUid]: { caption: item.caption } } },
      type_uid: {
        ...item.attributes.type_uid,
        enum: Object.fromEntries(
          Object.entries(activities).map(([id, value]) => [
            String(classUid * 100 + Number(id)),
            { caption: `${item.caption}: ${value.caption}` },
          ]),
        ),
      },
    };
    return { ...item, attributes };
  }

  /** The attributes of an item merged over the dictionary's, those of profiles not applied left out. */
  private resolved(item: ItemDefinition): ResolvedItem {
    const attributes: Record<string, AttributeDefinition> = {};
    for (const [name, own] of Object.entries(item.attributes)) {
      const base = this.dictionary[name];
      if (!base) throw new Error(`OCSF schema: ${item.name}.${name} is not in the dictionary`);
      const attribute = deepMerge(base, own);
      if (attribute.profile == null || this.options.profiles.includes(attribute.profile)) attributes[name] = attribute;
    }
    return { name: item.name, caption: item.caption, constraints: item.constraints ?? {}, attributes };
  }

  /** The event class `name` (e.g. `compliance_finding`) as its events may use it. */
  classDefinition(name: string): ResolvedItem {
    return this.resolved(this.resolveClass(name));
  }

  /** The object `name` (e.g. `finding_info`) as an event may use it. */
  objectDefinition(name: string): ResolvedItem {
    return this.resolved(this.resolve(this.objectFile(name), this.objectFile));
  }

  /** Whether `name` is one of the dictionary's data types (`string_t`, `timestamp_t`…) rather than an object. */
  isDataType(name: string): boolean {
    return name in this.types;
  }

  /** The JSON Schema of the event class `name` (e.g. `compliance_finding`). */
  classSchema(name: string): JsonSchema {
    const defs: Record<string, JsonSchema> = {};
    const pending: string[] = [];
    const reference = (object: string) => {
      if (!(object in defs) && !pending.includes(object)) pending.push(object);
    };
    const schema = this.objectSchema(this.classDefinition(name), reference);
    for (let object = pending.shift(); object !== undefined; object = pending.shift()) {
      defs[object] = {};
      defs[object] = this.objectSchema(this.objectDefinition(object), reference);
    }
    return {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: `https://schema.ocsf.io/${OCSF_TEST_SCHEMA_VERSION}/classes/${name}`,
      ...schema,
      $defs: defs,
    };
  }

  private objectSchema(item: ResolvedItem, reference: (object: string) => void): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    const siblingRules: JsonSchema[] = [];
    const kept = Object.entries(item.attributes).filter(
      ([, attribute]) => this.options.deprecated === 'allow' || attribute['@deprecated'] === undefined,
    );
    for (const [name, attribute] of kept) {
      const values = this.enumValues(attribute);
      properties[name] = this.attributeSchema(attribute, values, reference);
      if (attribute.requirement === 'required') required.push(name);
      const sibling = attribute.sibling;
      if (values && sibling && kept.some(([other]) => other === sibling)) {
        for (const [value, { caption }] of Object.entries(values)) {
          if (value === '99' || caption === undefined) continue;
          siblingRules.push({
            if: { properties: { [name]: { const: Number(value) } }, required: [name, sibling] },
            then: { properties: { [sibling]: { const: caption } } },
          });
        }
      }
    }
    const names = new Set(kept.map(([name]) => name));
    const alternatives = (list: string[] | undefined) =>
      (list ?? []).filter((name) => names.has(name)).map((name) => ({ required: [name] }));
    const atLeastOne = alternatives(item.constraints.at_least_one);
    const justOne = alternatives(item.constraints.just_one);
    return {
      title: item.caption,
      type: 'object',
      properties,
      ...(required.length > 0 ? { required: required.sort() } : {}),
      additionalProperties: false,
      ...(atLeastOne.length > 0 ? { anyOf: atLeastOne } : {}),
      ...(justOne.length > 0 ? { oneOf: justOne } : {}),
      ...(siblingRules.length > 0 ? { allOf: siblingRules } : {}),
    };
  }

  /** The values of an attribute's enum that an event may use (without the deprecated ones, when they are refused). */
  enumValues(attribute: AttributeDefinition): EnumValues | undefined {
    if (!attribute.enum) return undefined;
    return Object.fromEntries(
      Object.entries(attribute.enum).filter(([, value]) => this.options.deprecated === 'allow' || value['@deprecated'] === undefined),
    );
  }

  private attributeSchema(attribute: AttributeDefinition, values: EnumValues | undefined, reference: (object: string) => void): JsonSchema {
    const type = attribute.type ?? '';
    let schema: JsonSchema;
    if (type === 'object')
      schema = { type: 'object' }; // free-form, e.g. `unmapped`
    else if (type in this.types) schema = this.typeSchema(type);
    else {
      reference(type);
      schema = { $ref: `#/$defs/${type}` };
    }
    if (values) {
      const keys = Object.keys(values).map((key) => (schema.type === 'integer' ? Number(key) : key));
      schema = { ...schema, enum: keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
    }
    schema = { title: attribute.caption, ...schema };
    return attribute.is_array ? { title: attribute.caption, type: 'array', items: schema } : schema;
  }

  /** A data type: its base type with every constraint along the way from it. */
  private typeSchema(name: string): JsonSchema {
    const base = BASE_TYPES[name];
    if (base) return { ...base };
    const definition = this.types[name];
    if (!definition?.type) throw new Error(`OCSF schema: data type ${name} has no base type`);
    const schema = this.typeSchema(definition.type);
    if (definition.regex !== undefined && compilesAsUnicode(definition.regex)) schema.pattern = definition.regex;
    if (definition.max_len !== undefined) schema.maxLength = definition.max_len;
    if (definition.range) [schema.minimum, schema.maximum] = definition.range;
    return schema;
  }
}

/** Ajv compiles `pattern` with the `u` flag; a regex that does not compile so is left out rather than misread. */
function compilesAsUnicode(regex: string): boolean {
  try {
    new RegExp(regex, 'u');
    return true;
  } catch {
    return false;
  }
}

/**
 * The compiler over OCSF_SCHEMA_DIR, refusing deprecated attributes and values, or undefined when the
 * variable is not set. A directory that is not a checkout of the OCSF schema at v1.6.0 is an error,
 * not a skip: whoever set the variable meant the check to run.
 */
export function ocsfDefinitions(dir = OCSF_DEFINITIONS_DIR): OcsfSchemaCompiler | undefined {
  if (dir === undefined) return undefined;
  const versionFile = join(dir, 'version.json');
  if (!existsSync(versionFile) || !existsSync(join(dir, 'dictionary.json')) || !existsSync(join(dir, 'events'))) {
    throw new Error(
      `OCSF_SCHEMA_DIR=${dir} is not a checkout of github.com/ocsf/ocsf-schema (no version.json, dictionary.json or events/)`,
    );
  }
  const { version } = JSON.parse(readFileSync(versionFile, 'utf8')) as { version?: string };
  if (version !== OCSF_TEST_SCHEMA_VERSION) {
    throw new Error(
      `OCSF_SCHEMA_DIR=${dir} holds OCSF ${version}, not ${OCSF_TEST_SCHEMA_VERSION}: git clone --branch v${OCSF_TEST_SCHEMA_VERSION} https://github.com/ocsf/ocsf-schema`,
    );
  }
  return new OcsfSchemaCompiler(dir, { profiles: OCSF_TEST_PROFILES, deprecated: 'reject' });
}

let validateByDefinitions: ValidateFunction | undefined;

/** The JSON Schema of a Compliance Finding with the cloud profile compiled from OCSF_SCHEMA_DIR, deprecated attributes refused. */
export function complianceFindingSchema(): JsonSchema {
  const compiler = ocsfDefinitions();
  if (!compiler) throw new Error(`the OCSF definitions are not available: this ${OCSF_DEFINITIONS_NEEDED}`);
  return compiler.classSchema('compliance_finding');
}

/** What OCSF's own definitions say is wrong with `event`, one line each (OCSF_SCHEMA_DIR must be set). */
export function ocsfDefinitionErrors(event: unknown): string[] {
  validateByDefinitions ??= new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(complianceFindingSchema());
  return validateByDefinitions(event) ? [] : (validateByDefinitions.errors ?? []).map(describeError);
}

/** What schema/ocsf-compliance-finding-1.6.0.json says is wrong with `event`, one line each. */
export function ocsfSchemaErrors(event: unknown): string[] {
  return schemaErrors(OCSF_EVENT_SCHEMA, event);
}

/**
 * What is wrong with `event`: against our schema, and, when OCSF_SCHEMA_DIR is set, against OCSF's
 * own definitions too (those lines start with `OCSF 1.6.0 definitions:`). Empty for a good event.
 */
export function ocsfEventErrors(event: unknown): string[] {
  const ours = ocsfSchemaErrors(event);
  if (OCSF_DEFINITIONS_DIR === undefined) return ours;
  return [...ours, ...ocsfDefinitionErrors(event).map((line) => `OCSF ${OCSF_TEST_SCHEMA_VERSION} definitions: ${line}`)];
}

function describeError(error: ErrorObject): string {
  return `${error.instancePath || '(top)'} ${error.message ?? error.keyword} (${error.schemaPath}${
    Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : ''
  })`;
}
