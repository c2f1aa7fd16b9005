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
