/**
 * A setting (environment variable or Functions app setting) that is present but malformed.
 * Start-up stops with this message, which names the setting and what it accepts.
 */
export class SettingsError extends Error {
  override name = 'SettingsError';

  constructor(
    /** The name of the offending setting, e.g. `AZURE_CLOUD`. */
    readonly setting: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SettingProblem {
  setting: string;
  message: string;
}

/**
 * One or more settings are missing or malformed, all told at once so that an operator fixes them
 * in one go: `problems` lists each in order, `setting` is the first. One problem reads as its own
 * message; several as a list under `<count> <what> are missing or malformed:`.
 */
export class InvalidSettingsError extends SettingsError {
  override name = 'SettingsError';

  constructor(
    readonly problems: readonly SettingProblem[],
    what = 'settings',
  ) {
    const first = problems[0] ?? { setting: 'settings', message: 'could not be read' };
    const list = problems.map((problem) => `- ${named(problem)}`).join('\n');
    super(first.setting, problems.length <= 1 ? named(first) : `${problems.length} ${what} are missing or malformed:\n${list}`);
  }

  /** The names of the settings at fault, in order. */
  get settings(): string[] {
    return this.problems.map((problem) => problem.setting);
  }
}

/** The message, led by the setting's name unless it already names it. */
function named(problem: SettingProblem): string {
  return problem.message.includes(problem.setting) ? problem.message : `${problem.setting}: ${problem.message}`;
}
