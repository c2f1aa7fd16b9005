/**
 * The part of Table Storage's `$filter` grammar the adapters send: comparisons of a property with
 * a literal (`eq ne gt ge lt le`), joined by `and` / `or`, in parentheses; string, datetime,
 * number and boolean literals. Anything else is refused with FilterNotSupportedError rather than
 * guessed at, so a new kind of query shows up as a failing test instead of a quietly wrong answer.
 *
 * Comparisons follow the service: strings compare ordinally, a property the entity lacks or whose
 * type differs from the literal's makes the comparison false (`ne` included).
 */
import type { StoredValue } from './table-entities.js';

export class FilterNotSupportedError extends Error {
  override name = 'FilterNotSupportedError';
}

type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'datetime'; value: string; ms: number }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean };

const OPERATORS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;
type Operator = (typeof OPERATORS)[number];

export type Filter =
  { kind: 'compare'; property: string; operator: Operator; literal: Literal } | { kind: 'and' | 'or'; left: Filter; right: Filter };

type Token = { kind: 'open' | 'close' } | { kind: 'word'; text: string } | { kind: 'literal'; literal: Literal };

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?L?/;
const WORD = /^[A-Za-z_][A-Za-z0-9_]*/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let rest = text;
  const fail = (): never => {
    throw new FilterNotSupportedError(`$filter ${JSON.stringify(text)}: cannot read ${JSON.stringify(rest.slice(0, 30))}`);
  };
  while ((rest = rest.replace(/^\s+/, '')).length > 0) {
    if (rest.startsWith('(') || rest.startsWith(')')) {
      tokens.push({ kind: rest[0] === '(' ? 'open' : 'close' });
      rest = rest.slice(1);
      continue;
    }
    const quoted = /^(datetime)?'((?:[^']|'')*)'/.exec(rest);
    if (quoted) {
      const value = quoted[2]!.replace(/''/g, "'");
      if (quoted[1]) {
        const ms = Date.parse(value);
        if (Number.isNaN(ms)) fail();
        tokens.push({ kind: 'literal', literal: { kind: 'datetime', value, ms } });
      } else {
        tokens.push({ kind: 'literal', literal: { kind: 'string', value } });
      }
      rest = rest.slice(quoted[0].length);
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number) {
      tokens.push({ kind: 'literal', literal: { kind: 'number', value: Number(number[0].replace(/L$/, '')) } });
      rest = rest.slice(number[0].length);
      continue;
    }
    const word = WORD.exec(rest);
    if (!word) return fail();
    if (rest[word[0].length] === "'" || rest[word[0].length] === '(') fail(); // guid'…', X'…', functions
    const boolean = word[0] === 'true' || word[0] === 'false';
    tokens.push(boolean ? { kind: 'literal', literal: { kind: 'boolean', value: word[0] === 'true' } } : { kind: 'word', text: word[0] });
    rest = rest.slice(word[0].length);
  }
  return tokens;
}

/** Parses a `$filter` expression; throws FilterNotSupportedError on anything outside the grammar above. */
export function parseFilter(text: string): Filter {
  const tokens = tokenize(text);
  let position = 0;
  const fail = (why: string): never => {
    throw new FilterNotSupportedError(`$filter ${JSON.stringify(text)}: ${why}`);
  };
  const peekWord = (): string | undefined => {
    const token = tokens[position];
    return token?.kind === 'word' ? token.text : undefined;
  };

  function expression(): Filter {
    let left = conjunction();
    while (peekWord() === 'or') {
      position += 1;
      left = { kind: 'or', left, right: conjunction() };
    }
    return left;
  }
  function conjunction(): Filter {
    let left = primary();
    while (peekWord() === 'and') {
      position += 1;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  }
  function primary(): Filter {
    const token = tokens[position];
    if (token?.kind === 'open') {
      position += 1;
      const inner = expression();
      if (tokens[position]?.kind !== 'close') fail('a parenthesis is not closed');
      position += 1;
      return inner;
    }
    if (token?.kind !== 'word' || ['and', 'or', 'not', ...OPERATORS].includes(token.text)) {
      return fail(`expected a property name at token ${position + 1} (only "<property> <eq|ne|gt|ge|lt|le> <literal>" is supported)`);
    }
    const operator = tokens[position + 1];
    const literal = tokens[position + 2];
    if (operator?.kind !== 'word' || !OPERATORS.includes(operator.text as Operator)) {
      return fail(`expected eq, ne, gt, ge, lt or le after ${token.text}`);
    }
    if (literal?.kind !== 'literal')
      return fail(`expected a string, datetime, number or boolean literal after ${token.text} ${operator.text}`);
    position += 3;
    return { kind: 'compare', property: token.text, operator: operator.text as Operator, literal: literal.literal };
  }

  const filter = expression();
  if (position < tokens.length) fail(`unexpected text after token ${position}`);
  return filter;
}

/** True when the entity (its properties, keys and Timestamp included) matches. */
export function matches(filter: Filter, property: (name: string) => StoredValue | undefined): boolean {
  switch (filter.kind) {
    case 'and':
      return matches(filter.left, property) && matches(filter.right, property);
    case 'or':
      return matches(filter.left, property) || matches(filter.right, property);
    case 'compare': {
      const order = compare(property(filter.property), filter.literal);
      if (order === undefined) return false;
      switch (filter.operator) {
        case 'eq':
          return order === 0;
        case 'ne':
          return order !== 0;
        case 'gt':
          return order > 0;
        case 'ge':
          return order >= 0;
        case 'lt':
          return order < 0;
        case 'le':
          return order <= 0;
      }
    }
  }
}

/** The order of a stored value against a literal, or undefined when they cannot be compared (missing, other type). */
function compare(value: StoredValue | undefined, literal: Literal): number | undefined {
  if (value === undefined) return undefined;
  switch (literal.kind) {
    case 'string':
      return value.type === 'Edm.String' ? ordinal(value.value as string, literal.value) : undefined;
    case 'boolean':
      return value.type === 'Edm.Boolean' ? Number(value.value) - Number(literal.value) : undefined;
    case 'number': {
      if (value.type !== 'Edm.Int32' && value.type !== 'Edm.Int64' && value.type !== 'Edm.Double') return undefined;
      const number = Number(value.value);
      return number === literal.value ? 0 : number < literal.value ? -1 : 1;
    }
    case 'datetime': {
      if (value.type !== 'Edm.DateTime') return undefined;
      const ms = Date.parse(value.value as string);
      return ms === literal.ms ? 0 : ms < literal.ms ? -1 : 1;
    }
  }
}

export function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The partition a filter is confined to (`PartitionKey eq '…'` on its top-level `and` chain), if any. */
export function confinedPartition(filter: Filter | undefined): string | undefined {
  if (!filter) return undefined;
  if (filter.kind === 'compare') {
    const { property, operator, literal } = filter;
    return property === 'PartitionKey' && operator === 'eq' && literal.kind === 'string' ? literal.value : undefined;
  }
  if (filter.kind === 'and') return confinedPartition(filter.left) ?? confinedPartition(filter.right);
  return undefined;
}
