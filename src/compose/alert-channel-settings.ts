/**
 * The settings of the alert channels beside e-mail (docs/reference/settings.md#alerts): the Teams
 * workflow's URL, and the webhook's URL and signing secret. All three are secrets: a workflow's URL
 * carries its SAS signature (`sig=`), a webhook's may carry a token, and the secret signs every
 * delivery. No message here repeats one: a URL is quoted by its scheme and host alone (many
 * receivers carry their token in the path), the secret never.
 *
 * In Azure they belong in Key Vault, as Key Vault references (`@Microsoft.KeyVault(SecretUri=…)`):
 * the Functions host resolves a reference before the app reads the setting, so the app sees the
 * value. A reference the host could not resolve reaches the app as the reference itself, which is
 * refused here with what to check.
 */
import { SettingsError } from '../core/settings-error.js';

export const TEAMS_WORKFLOW_URL = 'CONTACT_WATCH_TEAMS_WORKFLOW_URL';
export const WEBHOOK_URL = 'CONTACT_WATCH_WEBHOOK_URL';
export const WEBHOOK_SECRET = 'CONTACT_WATCH_WEBHOOK_SECRET';

/** The shortest signing secret accepted, in bytes (HMAC-SHA256's block is 64; its output 32). */
export const MIN_WEBHOOK_SECRET_BYTES = 32;

/** The setting still holds a Key Vault reference: the Functions host could not read the secret. */
function unresolvedKeyVaultReference(name: string, text: string): void {
  if (!/^@Microsoft\.KeyVault\(/i.test(text)) return;
  throw new SettingsError(
    name,
    `${name} is a Key Vault reference the Functions host could not resolve, so the app sees the reference instead of the secret. ` +
      "Check that the secret exists, that the app's identity has the Key Vault Secrets User role on it (or on the vault), " +
      "that the app's keyVaultReferenceIdentity names that identity, and that the vault lets the app reach it; the portal's Environment variables page shows the reference's status.",
  );
}

/**
 * A URL alerts are POSTed to: absolute, `https://` (plain `http://` only on 127.0.0.1 or
 * localhost, for local tests), without a user or password. Its query is kept: it is how a
 * workflow's trigger is signed.
 */
function postUrl(name: string, text: string | undefined, expected: string): string | undefined {
  if (text === undefined) return undefined;
  unresolvedKeyVaultReference(name, text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError(name, `${name} is not an absolute URL (its value is a secret, so it is not shown); expected ${expected}.`);
  }
  const quoteWithoutSecrets = () => JSON.stringify(`${url.protocol}//${url.host}/…`);
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw new SettingsError(
      name,
      `${name} is ${quoteWithoutSecrets()}; expected ${expected} (https://; plain http:// only on 127.0.0.1 or localhost).`,
    );
  }
  if (url.username || url.password) {
    throw new SettingsError(
      name,
      `${name} is ${quoteWithoutSecrets()}; it must not carry a user name or password (user:password@): expected ${expected}.`,
    );
  }
  return url.href;
}

/** CONTACT_WATCH_TEAMS_WORKFLOW_URL: the HTTP trigger of a Teams workflow that posts the card it receives. */
export function readTeamsWorkflowUrl(text: string | undefined): string | undefined {
  return postUrl(
    TEAMS_WORKFLOW_URL,
    text,
    'the https:// URL of a Teams workflow\'s "When a Teams webhook request is received" trigger, as Teams shows it (with its sig=)',
  );
}

/** CONTACT_WATCH_WEBHOOK_URL: where the signed alert documents are POSTed. */
export function readWebhookUrl(text: string | undefined): string | undefined {
  return postUrl(WEBHOOK_URL, text, 'the https:// URL of your webhook receiver');
}

/** CONTACT_WATCH_WEBHOOK_SECRET: the HMAC-SHA256 key, its text's UTF-8 bytes; at least 32 bytes. */
export function readWebhookSecret(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  unresolvedKeyVaultReference(WEBHOOK_SECRET, text);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes < MIN_WEBHOOK_SECRET_BYTES) {
    throw new SettingsError(
      WEBHOOK_SECRET,
      `${WEBHOOK_SECRET} is ${bytes} bytes long; a signing secret must be at least ${MIN_WEBHOOK_SECRET_BYTES} bytes: ` +
        'generate one with `openssl rand -hex 32` (64 characters) and give the receiver the same.',
    );
  }
  return text;
}

/** The webhook's URL and secret go together: one without the other is a problem at the one missing. */
export function webhookPairProblem(url: unknown, secret: unknown): SettingsError | undefined {
  if (url !== undefined && secret === undefined) {
    return new SettingsError(
      WEBHOOK_SECRET,
      `${WEBHOOK_URL} is set, but ${WEBHOOK_SECRET} is not: every delivery is signed, so the webhook needs a secret of at least ` +
        `${MIN_WEBHOOK_SECRET_BYTES} bytes (\`openssl rand -hex 32\`), the same the receiver verifies with.`,
    );
  }
  if (url === undefined && secret !== undefined) {
    return new SettingsError(
      WEBHOOK_URL,
      `${WEBHOOK_SECRET} is set, but ${WEBHOOK_URL} is not: set the receiver's https:// URL, or remove the secret.`,
    );
  }
  return undefined;
}
