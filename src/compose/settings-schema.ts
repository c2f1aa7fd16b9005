/**
 * How the settings are read: one zod schema over the environment (the CLI's variables, the
 * Functions app's settings). Every setting is a field of it that checks its own value; a rule
 * across several settings (one ACS setting of two, CONTACT_WATCH_STORAGE or its fallback) is a
 * check that runs even when another setting is wrong. Each problem is an issue at the setting it
 * names, so every problem is reported at once, each naming its setting and what to do.
 *
 * The settings come in parts (src/compose/settings.ts, src/compose/alerting-settings.ts): the
 * Functions app reads them all (src/compose/app-settings.ts), a command of the CLI those it needs.
 */
import * as z from 'zod';
import { PolicyError } from '../core/policy.js';
import { InvalidSettingsError, SettingsError, type SettingProblem } from '../core/settings-error.js';

export type Env = Record<string, string | undefined>;

type Fields = Record<string, z.ZodType<unknown, string | undefined>>;
type Values<F extends Fields> = { [K in keyof F]: z.output<F[K]> };

/** Some settings, what they make together, and the rule across them if there is one. */
export interface SettingsPart<F extends Fields = Fields, Value = unknown> {
  /** One field per setting, named as the setting; each field checks the setting's own value. */
  fields: F;
  /**
   * A rule across the part's settings: throws a SettingsError naming the setting at fault (or an
   * InvalidSettingsError naming several). It runs even when another setting is wrong, so it reads
   * only fields that cannot fail (text), or asks of another field only whether it is set (a
   * malformed value is set, and is not undefined).
   */
  across?: (values: Values<F>) => void;
  /** What the settings make, once every setting is valid. */
  value: (values: Values<F>) => Value;
}

/** Declares a part, keeping the types of its fields for `across` and `value`. */
export function settingsPart<F extends Fields, Value>(part: SettingsPart<F, Value>): SettingsPart<F, Value> {
  return part;
}

/** A setting's text: trimmed, undefined when unset or blank. Never fails. */
export const settingText = z
  .string()
  .optional()
  .transform((value) => value?.trim() || undefined);

/**
 * A setting read by `read` from its text (undefined when unset or blank). `read` throws a
 * SettingsError naming the setting (or a PolicyError) when the value is malformed; its message
 * becomes the setting's problem.
 */
export function setting<T>(read: (text: string | undefined) => T): z.ZodType<T, string | undefined> {
  return settingText.transform((text, context) => {
    try {
      return read(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: messageOf(error) });
      return z.NEVER;
    }
  });
}

function messageOf(error: unknown): string {
  if (error instanceof SettingsError || error instanceof PolicyError) return error.message;
  throw error;
}

type PartValue<P> = P extends { value: (values: never) => infer Value } ? Value : never;
type AlwaysMade<P> = { [K in keyof P as undefined extends PartValue<P[K]> ? never : K]: PartValue<P[K]> };
type MaybeMade<P> = { [K in keyof P as undefined extends PartValue<P[K]> ? K : never]?: Exclude<PartValue<P[K]>, undefined> };
/** What a set of parts makes: one property per part, left out when its value is undefined. */
export type SettingsOf<P> = AlwaysMade<P> & MaybeMade<P>;

/** The names of the settings a set of parts reads. */
export type SettingNameOf<P> = { [K in keyof P]: P[K] extends { fields: infer F } ? keyof F & string : never }[keyof P];

export type SettingsRead<T> = { ok: true; settings: T } | { ok: false; problems: SettingProblem[] };

/** The parts read together through one schema over the environment. */
export interface Settings<P> {
  /** Every setting the parts read, in the order problems are reported. */
  readonly names: readonly SettingNameOf<P>[];
  /** The settings, or every problem with them. */
  check(env: Env): SettingsRead<SettingsOf<P>>;
  /** @throws InvalidSettingsError naming every setting at fault ("<n> <what> are missing or malformed"). */
  read(env: Env, what?: string): SettingsOf<P>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parts have different field schemas; `unknown` would reject every part's own
export function defineSettings<P extends Record<string, SettingsPart<any, unknown>>>(parts: P): Settings<P> {
  const list = Object.values(parts) as SettingsPart[];
  const fields = Object.assign({}, ...list.map((part) => part.fields)) as Fields;
  const names = Object.keys(fields) as SettingNameOf<P>[];
  const schema = z
    .object(fields)
    .check(
      z.superRefine(
        (values, context) => {
          for (const part of list) {
            try {
              part.across?.(values);
            } catch (error) {
              // A rule may find several problems at once (InvalidSettingsError): each at its setting.
              if (error instanceof InvalidSettingsError) {
                for (const problem of error.problems)
                  context.addIssue({ code: 'custom', message: problem.message, path: [problem.setting] });
                continue;
              }
              const setting = error instanceof SettingsError ? error.setting : undefined;
              context.addIssue({ code: 'custom', message: messageOf(error), path: setting ? [setting] : [] });
            }
          }
        },
        // Also when a field is wrong: every problem is reported together.
        { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
      ),
    )
    .transform((values) => {
      const made = Object.entries(parts).map(([key, part]) => [key, part.value(values)] as const);
      return Object.fromEntries(made.filter(([, value]) => value !== undefined)) as SettingsOf<P>;
    });

  const order = (setting: string): number => {
    const index = (names as readonly string[]).indexOf(setting);
    return index < 0 ? names.length : index;
  };
  const check = (env: Env): SettingsRead<SettingsOf<P>> => {
    const parsed = schema.safeParse(env);
    if (parsed.success) return { ok: true, settings: parsed.data };
    const problems: SettingProblem[] = [];
    for (const issue of parsed.error.issues) {
      const problem = { setting: String(issue.path[0] ?? 'settings'), message: issue.message };
      if (!problems.some((known) => known.setting === problem.setting && known.message === problem.message)) problems.push(problem);
    }
    // Stable: in the order of the settings, as an operator reads down the list.
    problems.sort((a, b) => order(a.setting) - order(b.setting));
    return { ok: false, problems };
  };
  return {
    names,
    check,
    read(env, what) {
      const read = check(env);
      if (!read.ok) throw new InvalidSettingsError(read.problems, what);
      return read.settings;
    },
  };
}
