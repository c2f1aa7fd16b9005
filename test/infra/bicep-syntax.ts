/**
 * The syntax side of the offline Bicep checker: parsing with tree-sitter-bicep (WASM, nothing
 * native), the finding and rule types, and small helpers over the syntax tree that every rule
 * shares. Whether a file is valid Bicep is the compiler's to say (bicep-compile.test.ts); these
 * helpers only read what the rules look at. Test tooling, not shipped.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const GRAMMAR_PATH = join(REPO_ROOT, 'node_modules/tree-sitter-bicep/tree-sitter-bicep.wasm');

// ---- types ---------------------------------------------------------------------------------

export type BicepRuleId =
  | 'role-definition-allow-list'
  | 'role-assignment-guid-name'
  | 'module-version-pinned'
  | 'no-secret-outputs'
  | 'secure-secret-parameters'
  | 'storage-account-hardened'
  | 'web-app-hardened'
  | 'communication-service-hardened'
  | 'app-settings-agree';

export interface BicepFinding {
  rule: BicepRuleId;
  /** Path relative to the repository root (or as given, when outside it). */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
}

export interface ParsedBicepFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the repository root, used in findings. */
  file: string;
  text: string;
  tree: Tree;
}

/** infra/roles.json: `{ "<role name>": { "id": "<GUID>", "why": "…" } }`. */
export type RoleAllowList = ReadonlyMap<string, { id: string; why: string; name?: string | undefined }>;

export interface BicepLintContext {
  roles: RoleAllowList;
  /** Absolute path of roles.json, to recognise `loadJsonContent('…/roles.json')`. */
  rolesPath: string;
}

export interface BicepRule {
  id: Exclude<BicepRuleId, 'app-settings-agree'>;
  description: string;
  check(file: ParsedBicepFile, context: BicepLintContext): BicepFinding[];
}

// ---- parsing -------------------------------------------------------------------------------

let parserPromise: Promise<Parser> | undefined;

/** One tree-sitter parser with the Bicep grammar, loaded once per process. */
export function bicepParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    const bicep = await Language.load(GRAMMAR_PATH);
    const parser = new Parser();
    parser.setLanguage(bicep);
    return parser;
  })();
  return parserPromise;
}

export async function parseBicep(path: string, text: string): Promise<ParsedBicepFile> {
  const parser = await bicepParser();
  const tree = parser.parse(text);
  if (!tree) throw new Error(`tree-sitter could not parse ${path}`);
  const absolute = resolve(path);
  const inRepo = absolute.startsWith(REPO_ROOT + sep);
  return { path: absolute, file: inRepo ? relative(REPO_ROOT, absolute).split(sep).join('/') : path, text, tree };
}

/** Every `.bicep` file under `dir`, sorted. */
export function findBicepFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current).sort()) {
      if (entry === 'node_modules' || entry.startsWith('.')) continue;
      const path = join(current, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.bicep')) found.push(path);
    }
  };
  walk(dir);
  return found;
}

// ---- syntax-tree helpers -------------------------------------------------------------------

export function finding(rule: BicepRuleId, file: ParsedBicepFile, node: Node, message: string): BicepFinding {
  return { rule, file: file.file, line: node.startPosition.row + 1, column: node.startPosition.column + 1, message };
}

export function descendants(node: Node, type: string): Node[] {
  return node.descendantsOfType(type).filter((found): found is Node => found !== null);
}

/** The literal text of a string without interpolations, or undefined. */
export function stringLiteral(node: Node | null | undefined): string | undefined {
  if (!node || node.type !== 'string') return undefined;
  if (node.namedChildren.some((child) => child?.type === 'interpolation')) return undefined;
  return node.namedChildren
    .filter((child): child is Node => child !== null)
    .map((child) => (child.type === 'escape_sequence' ? unescape(child.text) : child.text))
    .join('');
}

function unescape(sequence: string): string {
  return ({ "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' } as Record<string, string>)[sequence] ?? sequence;
}

/** The key of an object property (identifier or string). */
export function propertyKey(property: Node): string | undefined {
  const key = property.namedChildren[0];
  if (!key) return undefined;
  if (key.type === 'identifier' || key.type === 'compatible_identifier') return key.text;
  return stringLiteral(key);
}

export function propertyValue(property: Node): Node | undefined {
  return property.namedChildren[1] ?? undefined;
}

export function properties(object: Node | undefined): Node[] {
  if (!object || object.type !== 'object') return [];
  return object.namedChildren.filter((child): child is Node => child?.type === 'object_property');
}

/** The value at `path` of an object literal (property names compared case-insensitively, as ARM does). */
export function valueAt(object: Node | undefined, path: readonly string[]): Node | undefined {
  let current = object;
  for (const key of path) {
    const property = properties(current).find((candidate) => propertyKey(candidate)?.toLowerCase() === key.toLowerCase());
    if (!property) return undefined;
    current = propertyValue(property);
  }
  return current;
}

export interface Declaration {
  node: Node;
  kind: 'resource' | 'module';
  symbol: string;
  /** The resource type without api-version (child types prefixed with the parent's), or the module path. */
  target: string;
  existing: boolean;
  /** The body object, through `[for …: {…}]` and `if (…) {…}`. */
  body: Node | undefined;
}

function bodyOf(node: Node): Node | undefined {
  let value = node.namedChildren.at(-1) ?? undefined;
  if (value?.type === 'for_statement') value = value.childForFieldName('body') ?? value.namedChildren.at(-1) ?? undefined;
  if (value?.type === 'if_statement') value = value.namedChildren.at(-1) ?? undefined;
  return value?.type === 'object' ? value : undefined;
}

export function declarations(file: ParsedBicepFile): Declaration[] {
  const found: Declaration[] = [];
  for (const node of descendants(file.tree.rootNode, 'resource_declaration')) {
    const typeString = node.namedChildren.find((child) => child?.type === 'string');
    let target = (stringLiteral(typeString) ?? '').split('@')[0]!;
    for (let parent = node.parent; parent; parent = parent.parent) {
      if (parent.type !== 'resource_declaration') continue;
      const parentType = (stringLiteral(parent.namedChildren.find((child) => child?.type === 'string')) ?? '').split('@')[0]!;
      if (!target.includes('/')) target = `${parentType}/${target}`;
      else break;
    }
    found.push({
      node,
      kind: 'resource',
      symbol: node.namedChildren[0]?.text ?? '',
      target,
      existing: node.children.some((child) => child?.type === 'existing'),
      body: bodyOf(node),
    });
  }
  for (const node of descendants(file.tree.rootNode, 'module_declaration')) {
    found.push({
      node,
      kind: 'module',
      symbol: node.namedChildren[0]?.text ?? '',
      target: stringLiteral(node.namedChildren.find((child) => child?.type === 'string')) ?? '',
      existing: false,
      body: bodyOf(node),
    });
  }
  return found;
}

export function isResourceType(declaration: Declaration, type: string): boolean {
  return declaration.kind === 'resource' && declaration.target.toLowerCase() === type.toLowerCase();
}

/** An AVM module reference (`br/public:avm/res/web/site:0.15.1`) names `avmPath`. */
export function isAvmModule(declaration: Declaration, avmPath: string): boolean {
  return declaration.kind === 'module' && new RegExp(`(^|/|:)${avmPath.replace(/\//g, '\\/')}(:|@|$)`, 'i').test(declaration.target);
}

/** Top-level `var` and `param` declarations by name. */
export function topLevel(file: ParsedBicepFile): Map<string, { kind: 'var' | 'param'; node: Node; value: Node | undefined }> {
  const found = new Map<string, { kind: 'var' | 'param'; node: Node; value: Node | undefined }>();
  for (const node of file.tree.rootNode.namedChildren) {
    if (!node || (node.type !== 'variable_declaration' && node.type !== 'parameter_declaration')) continue;
    const name = node.namedChildren[0]?.text;
    if (!name) continue;
    const hasValue = node.children.some((child) => child?.type === '=');
    found.set(name, {
      kind: node.type === 'variable_declaration' ? 'var' : 'param',
      node,
      value: hasValue ? (node.namedChildren.at(-1) ?? undefined) : undefined,
    });
  }
  return found;
}

/** The decorator names (`secure`, `description` …) right before a declaration. */
export function decoratorNames(declaration: Node): string[] {
  const previous = declaration.previousNamedSibling;
  if (!previous || previous.type !== 'decorators') return [];
  return descendants(previous, 'decorator').map(
    (decorator) => decorator.namedChildren[0]?.childForFieldName('function')?.text ?? decorator.namedChildren[0]?.text ?? '',
  );
}

/**
 * Follows an identifier to the value of the `var` (or the default of the `param`) of that name in
 * the same file, a few levels deep; anything else is returned as it is.
 */
export function resolveLocal(file: ParsedBicepFile, node: Node | undefined, depth = 0): Node | undefined {
  if (!node || depth > 8) return node;
  if (node.type === 'parenthesized_expression') return resolveLocal(file, node.namedChildren[0] ?? undefined, depth + 1);
  if (node.type !== 'identifier') return node;
  const declared = topLevel(file).get(node.text);
  return declared?.value ? resolveLocal(file, declared.value, depth + 1) : node;
}

export function callName(call: Node): string | undefined {
  const fn = call.childForFieldName('function');
  if (!fn) return undefined;
  if (fn.type === 'identifier') return fn.text;
  if (fn.type === 'member_expression') return fn.childForFieldName('property')?.text;
  return undefined;
}

export function callArguments(call: Node): Node[] {
  return (call.childForFieldName('arguments')?.namedChildren ?? []).filter((child): child is Node => child !== null);
}

/** What a loop variable loops over (`[for role in <this>: …]`), when `identifier` is one in scope. */
export function loopSource(identifier: Node): Node | undefined {
  for (let scope = identifier.parent; scope; scope = scope.parent) {
    if (scope.type !== 'for_statement') continue;
    const initializer = scope.childForFieldName('initializer');
    const parameters = scope.namedChildren.find((child) => child?.type === 'for_loop_parameters');
    const names = initializer ? [initializer.text] : (parameters?.namedChildren.map((child) => child?.text ?? '') ?? []);
    if (!names.includes(identifier.text)) continue;
    const inToken = scope.children.findIndex((child) => child?.type === 'in');
    return scope.children.slice(inToken + 1).find((child): child is Node => child !== null && child.isNamed) ?? undefined;
  }
  return undefined;
}

/** The node and every descendant. */
export function* walk(node: Node): Generator<Node> {
  yield node;
  for (const child of node.namedChildren) if (child) yield* walk(child);
}
