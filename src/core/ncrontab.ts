/**
 * NCRONTAB, the six-field cron format of the Azure Functions timer trigger
 * ("second minute hour day month day-of-week"): whether an expression is one, and if not, why, in
 * words an operator can act on. Numbers, `*`, ranges, steps, lists, and English month and day
 * names (three letters or in full). Values are quoted only through quoteWithoutSecrets, since the
 * text comes from a setting.
 */
import { quoteWithoutSecrets } from './secret-text.js';

interface CronField {
  name: string;
  min: number;
  max: number;
  /** Names accepted for values (index + offset), matched on their first three letters. */
  names?: readonly string[];
  nameOffset?: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const CRON_FIELDS: readonly CronField[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameOffset: 1 },
  { name: 'day-of-week', min: 0, max: 6, names: DAYS, nameOffset: 0 },
];

/** Why `expression` is not a six-field NCRONTAB expression, or undefined when it is one. */
export function ncrontabProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== CRON_FIELDS.length) {
    return `it has ${fields.length} field${fields.length === 1 ? '' : 's'}, not 6${fields.length === 5 ? ' (the Functions timer needs the seconds field first)' : ''}`;
  }
  for (const [index, field] of CRON_FIELDS.entries()) {
    const problem = cronFieldProblem(fields[index]!, field);
    if (problem) return `its ${field.name} field ${quoteWithoutSecrets(fields[index]!)} ${problem}`;
  }
  return undefined;
}

function cronFieldProblem(text: string, field: CronField): string | undefined {
  for (const item of text.split(',')) {
    if (item === '') return 'has an empty list item';
    const [range, step, ...rest] = item.split('/');
    if (rest.length > 0) return `has more than one "/" in ${quoteWithoutSecrets(item)}`;
    if (step !== undefined && !/^\d+$/.test(step)) return `has a step ${quoteWithoutSecrets(step)} that is not a whole number`;
    if (step !== undefined && Number(step) < 1) return 'has a step of 0';
    if (range === '*') continue;
    const bounds = range!.split('-');
    if (bounds.length > 2) return `has a range ${quoteWithoutSecrets(range!)} with more than one "-"`;
    const values: number[] = [];
    for (const bound of bounds) {
      const value = cronValue(bound, field);
      if (value === undefined) {
        const names = field.names ? ` or a name (${field.names.join(', ')})` : '';
        return `has ${quoteWithoutSecrets(bound)}, which is not a number from ${field.min} to ${field.max}${names}`;
      }
      values.push(value);
    }
    if (values.length === 2 && values[0]! > values[1]!) return `has a range ${quoteWithoutSecrets(range!)} that runs backwards`;
  }
  return undefined;
}

function cronValue(text: string, field: CronField): number | undefined {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    return value >= field.min && value <= field.max ? value : undefined;
  }
  if (!field.names || text.length < 3) return undefined;
  const lower = text.toLowerCase();
  const index = field.names.findIndex((name) => lower.startsWith(name));
  // Three-letter names, or full English names (January, Monday).
  if (index < 0 || (lower.length > 3 && !FULL_NAMES.has(lower))) return undefined;
  return index + (field.nameOffset ?? 0);
}

const FULL_NAMES = new Set([
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
]);
