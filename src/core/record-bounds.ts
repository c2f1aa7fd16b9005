/**
 * Keeps what is stored about one subscription within fixed bounds, whatever Azure returned. A
 * contact's `emails` is free text its owner controls, and a Table Storage property holds at most
 * 64 KiB and an entity 1 MiB: unbounded, one subscription's contact could make its record, its
 * history row or its alert claim too large to write, and stop every later run. The status, the
 * failed rules and the rule results are always kept whole; only the free text beside them is
 * shortened, visibly, and the record says what was left out. Pure; no I/O.
 */
import type { ContactFix, ContactRemediation, ContactSummary, Finding, SecurityContactPutBody } from './model.js';

/** The most of each free-text value a stored record keeps (UTF-16 code units). */
export const RECORD_LIMITS = {
  displayNameCharacters: 256,
  stateCharacters: 64,
  /** Per rule message; the five messages together stay near 10 KB. */
  messageCharacters: 2_000,
  emailAddresses: 50,
  emailCharacters: 4_000,
  /** A valid address is at most 254 characters; anything longer is kept only as a marked prefix. */
  emailAddressCharacters: 320,
  roles: 20,
  roleCharacters: 64,
  /** The merged fix's JSON; a larger one is stored as `too-large` and computed again when needed. */
  fixCharacters: 8_000,
  /** Lines describing a write of the contact, and characters per line. */
  remediationChanges: 20,
  remediationChangeCharacters: 500,
} as const;

export interface StorableFields {
  displayName: string;
  state: string;
  findings: Finding[];
  contact: ContactSummary;
  fix: ContactFix | null;
}

/** The fields within RECORD_LIMITS, and a sentence naming what was left out (null when nothing was). */
export function boundForStorage(fields: StorableFields): StorableFields & { omitted: string | null } {
  const omitted: string[] = [];

  const displayName = shorten(fields.displayName, RECORD_LIMITS.displayNameCharacters);
  if (displayName.left > 0) omitted.push(`${count(displayName.left)} characters of the display name`);
  const state = cut(fields.state, RECORD_LIMITS.stateCharacters);

  let messageCharactersLeftOut = 0;
  const findings = fields.findings.map((finding) => {
    const message = shorten(finding.message, RECORD_LIMITS.messageCharacters);
    if (message.left === 0) return finding;
    messageCharactersLeftOut += message.left;
    return { ...finding, message: message.text };
  });
  if (messageCharactersLeftOut > 0) omitted.push(`${count(messageCharactersLeftOut)} characters of rule messages`);

  const emails = boundedEmails(fields.contact.emails);
  if (emails.length < fields.contact.emails.length) {
    omitted.push(`${count(fields.contact.emails.length - emails.length)} of ${count(fields.contact.emails.length)} e-mail addresses`);
  } else if (emails.some((address, index) => address !== fields.contact.emails[index])) {
    omitted.push('the end of e-mail addresses longer than any valid address');
  }
  const roles = fields.contact.notifyRoles.slice(0, RECORD_LIMITS.roles).map((role) => cut(role, RECORD_LIMITS.roleCharacters));
  if (roles.length < fields.contact.notifyRoles.length)
    omitted.push(`${count(fields.contact.notifyRoles.length - roles.length)} notification roles`);

  let fix = fields.fix;
  if (fix && fix.kind !== 'too-large') {
    const json = JSON.stringify(fix);
    if (json.length > RECORD_LIMITS.fixCharacters) {
      const bytes = Buffer.byteLength(json);
      fix = { kind: 'too-large', bytes };
      omitted.push(`the suggested fix (${count(bytes)} bytes of JSON)`);
    } else if (fix.kind === 'not-fixable' && fix.reason.length > RECORD_LIMITS.messageCharacters) {
      fix = { kind: 'not-fixable', reason: cut(fix.reason, RECORD_LIMITS.messageCharacters) };
    }
  }

  return {
    displayName: displayName.text,
    state,
    findings,
    contact: { ...fields.contact, emails, notifyRoles: roles },
    fix,
    omitted: omitted.length === 0 ? null : `Left out to keep this record within the storage limits: ${omitted.join('; ')}.`,
  };
}

/** The first addresses, each at most emailAddressCharacters, within the count and character bounds. */
function boundedEmails(addresses: readonly string[]): string[] {
  const kept: string[] = [];
  let characters = 0;
  for (const address of addresses) {
    const shown = cut(address, RECORD_LIMITS.emailAddressCharacters);
    if (kept.length >= RECORD_LIMITS.emailAddresses || characters + shown.length > RECORD_LIMITS.emailCharacters) break;
    kept.push(shown);
    characters += shown.length;
  }
  return kept;
}

/**
 * `text` when it fits; otherwise its start and a visible marker saying how much was cut, within
 * `limit` characters, never splitting a surrogate pair.
 */
export function cut(text: string, limit: number): string {
  return shorten(text, limit).text;
}

/** `cut`, and how many characters of `text` it left out. */
function shorten(text: string, limit: number): { text: string; left: number } {
  if (text.length <= limit) return { text, left: 0 };
  const marker = (left: number) => `… [${count(left)} more characters not stored]`;
  // A limit too small for the marker keeps a plain prefix with an ellipsis.
  const room = limit - marker(text.length).length;
  let keep = room > 0 ? room : Math.max(0, limit - 1);
  if (keep > 0 && isHighSurrogate(text.charCodeAt(keep - 1))) keep -= 1;
  return { text: `${text.slice(0, keep)}${room > 0 ? marker(text.length - keep) : '…'}`, left: text.length - keep };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

const NUMBER = new Intl.NumberFormat('en');

function count(n: number): string {
  return NUMBER.format(n);
}

/**
 * The least a record can be stored as when Table Storage refuses it whole: its status, rule
 * results and dates, without the free text, and a note saying why. A subscription whose record
 * cannot be written at all is reported by the run, never left to fail the others.
 */
export function minimalForStorage<T extends StorableFields & { omitted: string | null }>(record: T, reason: string): T {
  return {
    ...record,
    displayName: cut(record.displayName, 64),
    state: cut(record.state, 32),
    findings: record.findings.map((finding) => ({ ...finding, message: 'The details of this result could not be stored.' })),
    contact: { ...record.contact, emails: [], notifyRoles: record.contact.notifyRoles.slice(0, 4).map((role) => cut(role, 32)) },
    fix: null,
    omitted: `Table Storage refused the whole record (${cut(reason, 300)}); only its status, rule results and dates were kept.`,
  };
}

/**
 * A write of the contact as the record and its history keep it: the change lines and the reason
 * shortened like rule messages, and the body sent kept only when its JSON is within the fix's
 * bound (else how large it was).
 */
export function boundRemediation(
  remediation: ContactRemediation & { body: SecurityContactPutBody },
): ContactRemediation & { body: SecurityContactPutBody | { omittedBytes: number } } {
  const { body, reason, ...rest } = remediation;
  const json = JSON.stringify(body);
  const changes = remediation.changes
    .slice(0, RECORD_LIMITS.remediationChanges)
    .map((line) => shorten(line, RECORD_LIMITS.remediationChangeCharacters).text);
  const more = remediation.changes.length - changes.length;
  return {
    ...rest,
    changes: more > 0 ? [...changes, `… and ${count(more)} more changes`] : changes,
    ...(reason === undefined ? {} : { reason: shorten(reason, RECORD_LIMITS.messageCharacters).text }),
    body: json.length > RECORD_LIMITS.fixCharacters ? { omittedBytes: Buffer.byteLength(json) } : body,
  };
}
