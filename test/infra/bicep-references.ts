/**
 * The part of Bicep's own compile-time checking that a syntax tree can answer, for want of the
 * Bicep CLI here: every name an expression uses is declared (BCP057), and every local module is
 * called as its file declares it — parameters that exist (BCP037), required ones given (BCP035),
 * values of the declared type (BCP036) and inside `@allowed`/`@minValue`/`@maxValue`, outputs that
 * exist (BCP053), and a `scope` where the module deploys at another scope than its caller.
 *
 * Types are inferred only where the syntax says them (literals, declared parameter and output
 * types, a few functions); anything else is not judged, so a finding is always a real mistake.
 * Registry modules (`br/…`, `ts/…`) are not followed: their files are not here.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Node } from 'web-tree-sitter';
import {
  bodyOf,
  callName,
  declarations,
  descendants,
  finding,
  properties,
  propertyKey,
  propertyValue,
  stringLiteral,
  topLevel,
  valueAt,
  walk,
  type BicepFinding,
  type BicepRule,
  type Declaration,
  type ParsedBicepFile,
} from './bicep-syntax.js';

// ---- declared names --------------------------------------------------------------------------

const DECLARATIONS_NAMED_BY_FIRST_CHILD = new Set([
  'parameter_declaration',
  'variable_declaration',
  'resource_declaration',
  'module_declaration',
  'output_declaration',
  'type_declaration',
  'metadata_declaration',
]);

/** Names every expression may use: the file's declarations (outputs excepted) and the two namespaces. */
function fileScope(file: ParsedBicepFile): Set<string> {
  const names = new Set(['az', 'sys']);
  for (const node of file.tree.rootNode.namedChildren) {
    if (!node) continue;
    if (DECLARATIONS_NAMED_BY_FIRST_CHILD.has(node.type) && node.type !== 'output_declaration' && node.type !== 'metadata_declaration') {
      const name = node.namedChildren[0]?.text;
      if (name) names.add(name);
    }
    if (node.type === 'user_defined_function') {
      const name = node.childForFieldName('name')?.text;
      if (name) names.add(name);
    }
  }
  return names;
}

/** Whether `node` is the name of what it declares or binds, a property key, a function name or part of a type. */
function isNotAReference(node: Node): boolean {
  const parent = node.parent;
  if (!parent) return true;
  if (DECLARATIONS_NAMED_BY_FIRST_CHILD.has(parent.type) && parent.namedChildren[0]?.equals(node)) return true;
  if (parent.type === 'object_property' && parent.namedChildren[0]?.equals(node)) return true;
  if (parent.type === 'call_expression' && parent.childForFieldName('function')?.equals(node)) return true;
  if (parent.type === 'resource_expression' && parent.childForFieldName('resource')?.equals(node)) return true;
  if (parent.type === 'for_statement' && parent.childForFieldName('initializer')?.equals(node)) return true;
  for (let ancestor: Node | null = parent; ancestor; ancestor = ancestor.parent) {
    if (
      ancestor.type === 'type' ||
      ancestor.type === 'type_declaration' ||
      ancestor.type === 'for_loop_parameters' ||
      ancestor.type === 'parameters'
    )
      return true;
    if (ancestor.type === 'user_defined_function' && ancestor.childForFieldName('name')?.equals(node)) return true;
    if (ancestor.type === 'lambda_expression') {
      const bindings = ancestor.namedChildren.slice(0, -1);
      if (bindings.some((binding) => binding && binding.startIndex <= node.startIndex && node.endIndex <= binding.endIndex)) return true;
    }
  }
  return false;
}

/** Whether a loop, a lambda, a user function or an enclosing resource body binds `name` around `node`. */
function boundAround(node: Node, name: string): boolean {
  for (let scope = node.parent; scope; scope = scope.parent) {
    switch (scope.type) {
      case 'for_statement': {
        const initializer = scope.childForFieldName('initializer');
        const parameters = scope.namedChildren.find((child) => child?.type === 'for_loop_parameters');
        const names = initializer ? [initializer.text] : (parameters?.namedChildren.map((child) => child?.text ?? '') ?? []);
        if (names.includes(name)) return true;
        break;
      }
      case 'lambda_expression':
        if (
          scope.namedChildren
            .slice(0, -1)
            .some((binding) => binding && [...walk(binding)].some((part) => part.type === 'identifier' && part.text === name))
        )
          return true;
        break;
      case 'user_defined_function':
        if (
          descendants(scope.namedChildren.find((child) => child?.type === 'parameters') ?? scope, 'parameter').some(
            (parameter) => parameter.namedChildren[0]?.text === name,
          )
        )
          return true;
        break;
      case 'resource_declaration':
        // A nested resource is known by its plain name inside its parent's body.
        for (const property of properties(bodyOf(scope))) {
          const nested = property.namedChildren[0];
          if (nested?.type === 'resource_declaration' && nested.namedChildren[0]?.text === name) return true;
        }
        break;
    }
  }
  return false;
}

const undeclaredSymbol: BicepRule = {
  id: 'undeclared-symbol',
  description:
    'Every name an expression uses is a parameter, variable, resource, module, type or function of the file, or a loop or lambda variable in scope.',
  check(file) {
    const scope = fileScope(file);
    const findings: BicepFinding[] = [];
    for (const node of descendants(file.tree.rootNode, 'identifier')) {
      if (isNotAReference(node)) continue;
      const name = node.text;
      if (scope.has(name) || boundAround(node, name)) continue;
      const near = [...scope].filter((candidate) => candidate.toLowerCase() === name.toLowerCase());
      const hint = near.length > 0 ? ` (names are case-sensitive: did you mean '${near[0]}'?)` : '';
      findings.push(finding('undeclared-symbol', file, node, `'${name}' is not declared in this file${hint}`));
    }
    return findings;
  },
};

// ---- types, as far as the syntax says them -------------------------------------------------

type BicepType = 'string' | 'int' | 'bool' | 'object' | 'array';

interface DeclaredParameter {
  name: string;
  type: BicepType | undefined;
  /** Has a default or a nullable type: callers may leave it out. */
  optional: boolean;
  /** From `@allowed([…])` or a union of literal types. */
  allowed: (string | number)[] | undefined;
  minValue: number | undefined;
  maxValue: number | undefined;
}

interface ModuleInterface {
  file: ParsedBicepFile;
  /** The path as the caller wrote it. */
  reference: string;
  targetScope: string;
  parameters: Map<string, DeclaredParameter>;
  outputs: Map<string, BicepType | undefined>;
}

function declaredType(typeNode: Node | undefined): {
  type: BicepType | undefined;
  nullable: boolean;
  literals: (string | number)[] | undefined;
} {
  const inner = typeNode?.type === 'type' ? (typeNode.namedChildren[0] ?? undefined) : typeNode;
  if (!inner) return { type: undefined, nullable: false, literals: undefined };
  switch (inner.type) {
    case 'primitive_type': {
      const text = inner.text;
      return {
        type: (['string', 'int', 'bool', 'object', 'array'] as const).find((primitive) => primitive === text),
        nullable: false,
        literals: undefined,
      };
    }
    case 'nullable_type':
      return { ...declaredType(inner.namedChildren[0] ?? undefined), nullable: true };
    case 'array_type':
      return { type: 'array', nullable: false, literals: undefined };
    case 'object':
      return { type: 'object', nullable: false, literals: undefined };
    case 'string':
      return { type: 'string', nullable: false, literals: [stringLiteral(inner) ?? ''] };
    case 'union_type': {
      const members = inner.namedChildren.filter((member): member is Node => member !== null);
      const literals = members.map(literalValue);
      if (literals.every((literal): literal is string => typeof literal === 'string')) return { type: 'string', nullable: false, literals };
      if (literals.every((literal): literal is number => typeof literal === 'number')) return { type: 'int', nullable: false, literals };
      return { type: undefined, nullable: false, literals: undefined };
    }
    default:
      return { type: undefined, nullable: false, literals: undefined };
  }
}

function literalValue(node: Node | undefined): string | number | boolean | undefined {
  if (!node) return undefined;
  if (node.type === 'string') return stringLiteral(node);
  if (node.type === 'number') return Number(node.text);
  if (node.type === 'unary_expression' && node.children[0]?.type === '-' && node.namedChildren[0]?.type === 'number')
    return -Number(node.namedChildren[0].text);
  if (node.type === 'boolean') return node.text === 'true';
  return undefined;
}

/** The arguments of the decorator `name` right before `declaration` (`@allowed([…])`, `@sys.minValue(0)`). */
function decoratorArguments(declaration: Node, name: string): Node[] | undefined {
  const previous = declaration.previousNamedSibling;
  if (previous?.type !== 'decorators') return undefined;
  for (const decorator of descendants(previous, 'decorator')) {
    const call = decorator.namedChildren[0];
    if (call?.type === 'call_expression' && callName(call) === name) {
      return (call.childForFieldName('arguments')?.namedChildren ?? []).filter((argument): argument is Node => argument !== null);
    }
  }
  return undefined;
}

function numberDecorator(declaration: Node, name: string): number | undefined {
  const value = literalValue(decoratorArguments(declaration, name)?.[0]);
  return typeof value === 'number' ? value : undefined;
}

function targetScopeOf(file: ParsedBicepFile): string {
  const assignment = file.tree.rootNode.namedChildren.find((node) => node?.type === 'target_scope_assignment');
  return stringLiteral(assignment?.namedChildren[0]) ?? 'resourceGroup';
}

function moduleInterface(file: ParsedBicepFile, reference: string): ModuleInterface {
  const parameters = new Map<string, DeclaredParameter>();
  const outputs = new Map<string, BicepType | undefined>();
  for (const node of file.tree.rootNode.namedChildren) {
    if (node?.type === 'parameter_declaration') {
      const name = node.namedChildren[0]?.text ?? '';
      const typed = declaredType(node.namedChildren.find((child) => child?.type === 'type') ?? undefined);
      const hasDefault = node.children.some((child) => child?.type === '=');
      const allowed = decoratorArguments(node, 'allowed')?.[0];
      const allowedValues = allowed?.type === 'array' ? allowed.namedChildren.map((item) => literalValue(item ?? undefined)) : undefined;
      parameters.set(name, {
        name,
        type: typed.type,
        optional: hasDefault || typed.nullable,
        allowed:
          allowedValues && allowedValues.every((value): value is string | number => typeof value === 'string' || typeof value === 'number')
            ? allowedValues
            : typed.literals,
        minValue: numberDecorator(node, 'minValue'),
        maxValue: numberDecorator(node, 'maxValue'),
      });
    }
    if (node?.type === 'output_declaration') {
      outputs.set(
        node.namedChildren[0]?.text ?? '',
        declaredType(node.namedChildren.find((child) => child?.type === 'type') ?? undefined).type,
      );
    }
  }
  return { file, reference, targetScope: targetScopeOf(file), parameters, outputs };
}

const STRING_FUNCTIONS = new Set([
  'string',
  'toLower',
  'toUpper',
  'trim',
  'uniqueString',
  'guid',
  'format',
  'substring',
  'replace',
  'take',
  'skip',
  'base64',
  'uri',
  'newGuid',
  'utcNow',
  'resourceId',
  'subscriptionResourceId',
  'tenantResourceId',
  'extensionResourceId',
  'managementGroupResourceId',
]);
const INT_FUNCTIONS = new Set(['int', 'length', 'indexOf', 'lastIndexOf', 'min', 'max']);
const BOOL_FUNCTIONS = new Set(['bool', 'empty', 'contains', 'startsWith', 'endsWith']);
const COMPARISONS = new Set(['==', '!=', '=~', '!~', '<', '<=', '>', '>=', '&&', '||']);
const ARITHMETIC = new Set(['-', '*', '/', '%']);

interface TypeContext {
  file: ParsedBicepFile;
  /** The local modules of `file`, by symbol. */
  modules: Map<string, ModuleInterface>;
}

/** The type of an expression where the syntax says it; undefined where it would take Bicep's type checker. */
function typeOf(node: Node | undefined, context: TypeContext, depth = 0): BicepType | undefined {
  if (!node || depth > 8) return undefined;
  switch (node.type) {
    case 'string':
      return 'string';
    case 'number':
      return 'int';
    case 'boolean':
      return 'bool';
    case 'object':
      return 'object';
    case 'array':
    case 'for_statement':
      return 'array';
    case 'parenthesized_expression':
      return typeOf(node.namedChildren[0] ?? undefined, context, depth + 1);
    case 'unary_expression':
      return node.children[0]?.type === '!' ? 'bool' : node.children[0]?.type === '-' ? 'int' : undefined;
    case 'binary_expression': {
      const operator = node.children.find((child) => child && !child.isNamed)?.type ?? '';
      if (COMPARISONS.has(operator)) return 'bool';
      if (ARITHMETIC.has(operator) || operator === '+') return 'int';
      if (operator === '??') {
        const left = typeOf(node.childForFieldName('left') ?? undefined, context, depth + 1);
        return left === typeOf(node.childForFieldName('right') ?? undefined, context, depth + 1) ? left : undefined;
      }
      return undefined;
    }
    case 'ternary_expression': {
      const consequence = typeOf(node.childForFieldName('consequence') ?? undefined, context, depth + 1);
      return consequence === typeOf(node.childForFieldName('alternative') ?? undefined, context, depth + 1) ? consequence : undefined;
    }
    case 'call_expression': {
      const name = callName(node) ?? '';
      if (STRING_FUNCTIONS.has(name)) return 'string';
      if (INT_FUNCTIONS.has(name)) return 'int';
      if (BOOL_FUNCTIONS.has(name)) return 'bool';
      return undefined;
    }
    case 'identifier': {
      if (boundAround(node, node.text)) return undefined;
      const declared = topLevel(context.file).get(node.text);
      if (declared?.kind === 'param')
        return declaredType(declared.node.namedChildren.find((child) => child?.type === 'type') ?? undefined).type;
      if (declared?.kind === 'var') return typeOf(declared.value, context, depth + 1);
      return undefined;
    }
    case 'member_expression': {
      const output = moduleOutputReference(node, context.modules);
      return output ? output.module.outputs.get(output.name) : undefined;
    }
    default:
      return undefined;
  }
}

/** `<module>.outputs.<name>` (or `<module>[i].outputs.<name>`) of a local module. */
function moduleOutputReference(
  node: Node,
  modules: Map<string, ModuleInterface>,
): { symbol: string; name: string; module: ModuleInterface } | undefined {
  if (node.type !== 'member_expression') return undefined;
  const outputs = node.childForFieldName('object');
  if (outputs?.type !== 'member_expression' || outputs.childForFieldName('property')?.text !== 'outputs') return undefined;
  let symbol = outputs.childForFieldName('object');
  if (symbol?.type === 'subscript_expression') symbol = symbol.childForFieldName('object');
  if (symbol?.type !== 'identifier') return undefined;
  const module = modules.get(symbol.text);
  const name = node.childForFieldName('property')?.text;
  return module && name ? { symbol: symbol.text, name, module } : undefined;
}

// ---- local modules called as declared ------------------------------------------------------

function isRegistryReference(path: string): boolean {
  return /^(br|ts)[:/]/.test(path);
}

function localModules(
  file: ParsedBicepFile,
  files: readonly ParsedBicepFile[],
): { declaration: Declaration; path: string; module: ModuleInterface | undefined }[] {
  return declarations(file)
    .filter((declaration) => declaration.kind === 'module' && declaration.target !== '' && !isRegistryReference(declaration.target))
    .map((declaration) => {
      const path = resolve(dirname(file.path), declaration.target);
      const target = files.find((candidate) => candidate.path === path);
      return { declaration, path, module: target ? moduleInterface(target, declaration.target) : undefined };
    });
}

function shown(value: string | number): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

const moduleContract: BicepRule = {
  id: 'module-contract',
  description:
    'Every local module is given only parameters its file declares, every required one, values of the declared type and range, and a scope when it deploys at another scope; every output read from it exists.',
  check(file, context) {
    const findings: BicepFinding[] = [];
    const modules = new Map<string, ModuleInterface>();
    const callerScope = targetScopeOf(file);
    for (const { declaration, path, module } of localModules(file, context.files)) {
      const at = declaration.node.namedChildren.find((child) => child?.type === 'string') ?? declaration.node;
      if (!module) {
        if (!existsSync(path))
          findings.push(
            finding(
              'module-contract',
              file,
              at,
              `module '${declaration.symbol}': there is no file '${declaration.target}' next to this one`,
            ),
          );
        continue;
      }
      modules.set(declaration.symbol, module);
      const target = `'${declaration.target}'`;
      if (module.targetScope !== callerScope && !valueAt(declaration.body, ['scope'])) {
        findings.push(
          finding(
            'module-contract',
            file,
            declaration.node,
            `module '${declaration.symbol}': ${target} deploys at ${module.targetScope} scope and this file at ${callerScope} scope: give the module a scope`,
          ),
        );
      }
      const params = valueAt(declaration.body, ['params']);
      if (params && params.type !== 'object') continue; // a variable or an expression: not followed
      const given = new Set<string>();
      for (const property of properties(params)) {
        const name = propertyKey(property) ?? '';
        given.add(name);
        const declared = module.parameters.get(name);
        if (!declared) {
          const known = [...module.parameters.keys()].join(', ') || 'none';
          findings.push(
            finding(
              'module-contract',
              file,
              property,
              `module '${declaration.symbol}': ${target} declares no parameter '${name}' (it declares: ${known})`,
            ),
          );
          continue;
        }
        const value = propertyValue(property);
        const actual = typeOf(value, { file, modules });
        if (declared.type && actual && actual !== declared.type) {
          findings.push(
            finding(
              'module-contract',
              file,
              property,
              `module '${declaration.symbol}': parameter '${name}' is declared ${declared.type} in ${target} but is given ${actual}`,
            ),
          );
          continue;
        }
        const literal = literalValue(value);
        if (typeof literal === 'string' || typeof literal === 'number') {
          if (declared.allowed && !declared.allowed.includes(literal)) {
            findings.push(
              finding(
                'module-contract',
                file,
                property,
                `module '${declaration.symbol}': parameter '${name}' allows ${declared.allowed.map(shown).join(', ')} in ${target}, not ${shown(literal)}`,
              ),
            );
          }
          if (typeof literal === 'number' && declared.minValue !== undefined && literal < declared.minValue) {
            findings.push(
              finding(
                'module-contract',
                file,
                property,
                `module '${declaration.symbol}': parameter '${name}' is at least ${declared.minValue} in ${target}, not ${literal}`,
              ),
            );
          }
          if (typeof literal === 'number' && declared.maxValue !== undefined && literal > declared.maxValue) {
            findings.push(
              finding(
                'module-contract',
                file,
                property,
                `module '${declaration.symbol}': parameter '${name}' is at most ${declared.maxValue} in ${target}, not ${literal}`,
              ),
            );
          }
        }
      }
      const missing = [...module.parameters.values()]
        .filter((parameter) => !parameter.optional && !given.has(parameter.name))
        .map((parameter) => parameter.name);
      if (missing.length > 0) {
        findings.push(
          finding(
            'module-contract',
            file,
            params ?? declaration.node,
            `module '${declaration.symbol}': ${target} requires ${missing.map((name) => `'${name}'`).join(', ')}, not given`,
          ),
        );
      }
    }
    for (const node of descendants(file.tree.rootNode, 'member_expression')) {
      const reference = moduleOutputReference(node, modules);
      if (!reference || reference.module.outputs.has(reference.name)) continue;
      const known = [...reference.module.outputs.keys()].join(', ') || 'none';
      findings.push(
        finding(
          'module-contract',
          file,
          node,
          `module '${reference.symbol}': '${reference.module.reference}' has no output '${reference.name}' (it declares: ${known})`,
        ),
      );
    }
    return findings;
  },
};

export const REFERENCE_RULES: readonly BicepRule[] = [undeclaredSymbol, moduleContract];
