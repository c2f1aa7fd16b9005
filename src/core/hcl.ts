/**
 * JSON values written as HCL expressions (HashiCorp Configuration Language, native syntax), for the
 * Terraform form of a fix: strings, numbers, booleans, null, tuples and objects, laid out as
 * `terraform fmt` lays them out. Every string means exactly its text: nothing from Azure can
 * become an interpolation, a directive or a reference.
 */

/** What an object key may be without quotes: an HCL identifier that is not a keyword the parser reads specially. */
const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
// `true`, `false` and `null` would be values, not names; `{ for …` starts a for expression; `if`
// and `in` are kept quoted too, as they are keywords inside one.
const KEYWORDS = new Set(['true', 'false', 'null', 'for', 'in', 'if']);

/**
 * `text` as an HCL quoted string that evaluates to exactly `text`. Quotes and backslashes are
 * escaped; `${` and `%{` (the starts of an interpolation and of a template directive) are written
 * `$${` and `%%{`, the escapes HCL gives them; every character outside printable ASCII is a `\u`
 * or `\U` escape, so no control or bidirectional character can hide or reorder what the reader
 * sees. A lone surrogate, which UTF-8 cannot carry and so no HCL file can hold, is written U+FFFD.
 * HCL and Terraform hold every string in Unicode normalisation form C, whatever the file says, so
 * the text is written in NFC: what the file shows is what Terraform sends.
 */
export function hclString(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (code >= 0x20 && code <= 0x7e) out += char;
    else if (code >= 0xd800 && code <= 0xdfff) out += '\\uFFFD';
    else if (code <= 0xffff) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += `\\U${code.toString(16).toUpperCase().padStart(8, '0')}`;
  }
  // A function replacer: in a replacement string `$$` would itself mean one `$`.
  return `"${out.replaceAll('${', () => '$${').replaceAll('%{', () => '%%{')}"`;
}

/** An object key: bare where HCL reads it as that very name, else quoted. */
export function hclKey(key: string): string {
  return BARE_KEY.test(key) && !KEYWORDS.has(key) ? key : hclString(key);
}

/**
 * A JSON value (what JSON.parse gives) as an HCL expression, its first line unindented and the
 * following ones indented by `indent` plus their depth.
 * @throws TypeError for what JSON cannot hold (undefined, functions, non-finite numbers, …).
 */
export function hclValue(value: unknown, indent = ''): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return hclString(value);
    case 'boolean':
      return String(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} has no HCL form`);
      return String(value);
    case 'object':
      return Array.isArray(value) ? hclTuple(value, indent) : hclObject(value as Record<string, unknown>, indent);
    default:
      throw new TypeError(`a ${typeof value} has no HCL form`);
  }
}

function hclTuple(items: readonly unknown[], indent: string): string {
  if (items.length === 0) return '[]';
  // A list of plain values stays on one line, as people write `roles = ["Owner"]`.
  if (items.every((item) => item === null || typeof item !== 'object')) return `[${items.map((item) => hclValue(item)).join(', ')}]`;
  const inner = `${indent}  `;
  return ['[', ...items.map((item) => `${inner}${hclValue(item, inner)},`), `${indent}]`].join('\n');
}

function hclObject(object: Record<string, unknown>, indent: string): string {
  const entries = Object.entries(object);
  if (entries.length === 0) return '{}';
  return ['{', ...hclAttributes(entries, `${indent}  `), `${indent}}`].join('\n');
}

/**
 * `key = value` lines at `indent`, the `=` of consecutive one-line values aligned as `terraform fmt`
 * aligns them (a value over several lines ends the run).
 */
export function hclAttributes(entries: readonly (readonly [string, unknown])[], indent: string): string[] {
  const written = entries.map(([key, value]) => ({ key: hclKey(key), value: hclValue(value, indent) }));
  const lines: string[] = [];
  let run: typeof written = [];
  const flush = () => {
    const width = Math.max(0, ...run.map((entry) => entry.key.length));
    for (const entry of run) lines.push(`${indent}${entry.key.padEnd(width)} = ${entry.value}`);
    run = [];
  };
  for (const entry of written) {
    if (entry.value.includes('\n')) {
      flush();
      lines.push(`${indent}${entry.key} = ${entry.value}`);
    } else {
      run.push(entry);
    }
  }
  flush();
  return lines;
}
