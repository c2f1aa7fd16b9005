/**
 * E-mail addresses as a security contact holds them: splitting the `emails` text, a pragmatic
 * syntax check, placeholder domains and the policy's allowed domains. Pure; no I/O.
 */
import * as z from 'zod';

/**
 * Splits an address list on `;` and `,` (the portal writes `;`, people type `,`), trims white
 * space around each part and drops empty parts: `" a@x.io ; ,b@x.io "` → `["a@x.io", "b@x.io"]`.
 */
export function splitEmailList(text: string): string[] {
  return text
    .split(/[;,]/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

const MAX_ADDRESS_LENGTH = 254; // RFC 5321 path limit minus the angle brackets
const MAX_LOCAL_PART_LENGTH = 64;

/**
 * A pragmatic syntax check, not RFC 5322 in full. It accepts what mail systems and the Defender
 * portal accept in practice and rejects the typos people make:
 * - zod's "practical" e-mail pattern: a local part of letters, digits and `_ ' + -` in dot-separated
 *   runs (no leading, trailing or doubled dots), one `@`, and a domain of at least two labels whose
 *   last label is 2+ letters;
 * - every domain label 1–63 characters, not starting or ending with `-` (zod's domain pattern);
 * - at most 64 characters before the `@` and 254 in all.
 * Not accepted on purpose: quoted local parts, IP-literal domains (`user@[10.0.0.1]`), single-label
 * domains (`root@localhost`), display names (`Jane <jane@fabrikam.com>`) and non-ASCII addresses.
 */
export function isValidEmailSyntax(address: string): boolean {
  if (address.length > MAX_ADDRESS_LENGTH || !z.regexes.email.test(address)) return false;
  const at = address.lastIndexOf('@');
  const localPart = address.slice(0, at);
  const domain = address.slice(at + 1);
  return localPart.length <= MAX_LOCAL_PART_LENGTH && z.regexes.domain.test(domain);
}

/** The domain of an address, lower-cased (`Jane@Fabrikam.COM` → `fabrikam.com`); '' when there is no `@`. */
export function emailDomain(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** Domains used in documentation and samples: mail to them never reaches a security team. */
export const PLACEHOLDER_DOMAINS: readonly string[] = ['example.com', 'example.org', 'example.net', 'contoso.com'];
/** Reserved top-level domains (RFC 2606, RFC 6761) that no real mailbox can be on. */
export const PLACEHOLDER_TOP_LEVEL_DOMAINS: readonly string[] = ['example', 'test', 'invalid', 'localhost'];

/** True when `domain` is, or is under, `parent` (case-insensitive): `mail.fabrikam.com` is in `fabrikam.com`. */
export function isDomainWithin(domain: string, parent: string): boolean {
  const d = domain.toLowerCase();
  const p = parent.toLowerCase();
  return d === p || d.endsWith(`.${p}`);
}

/**
 * True for sample and reserved domains: `example.com`, `example.org`, `example.net`, `contoso.com`
 * (and their subdomains, which are just as fictitious) and anything under `.example`, `.test`,
 * `.invalid` or `.localhost`.
 */
export function isPlaceholderDomain(domain: string): boolean {
  return (
    PLACEHOLDER_DOMAINS.some((placeholder) => isDomainWithin(domain, placeholder)) ||
    PLACEHOLDER_TOP_LEVEL_DOMAINS.some((tld) => isDomainWithin(domain, tld))
  );
}

/** True when the policy allows any domain (empty list) or the domain is, or is under, an allowed one. */
export function isDomainAllowed(domain: string, allowedDomains: readonly string[]): boolean {
  return allowedDomains.length === 0 || allowedDomains.some((allowed) => isDomainWithin(domain, allowed));
}

/**
 * A domain name as the policy's `emails.allowedDomains` takes it: at least two labels, each 1–63
 * letters, digits or hyphens (not at either end), the last one 2+ letters. `fabrikam.com` and
 * `mail.fabrikam.co.uk` are; `@fabrikam.com`, `*.fabrikam.com`, `fabrikam` and `https://fabrikam.com` are not.
 */
export function isDomainName(text: string): boolean {
  return z.regexes.domain.test(text);
}

export type EmailAddressProblem = 'invalid-syntax' | 'placeholder-domain' | 'domain-not-allowed';

/**
 * Judges one address: its syntax first, then its domain. Returns the first problem found, or null
 * when the address is fit to receive security alerts under the given allowed domains.
 */
export function findEmailAddressProblem(address: string, allowedDomains: readonly string[]): EmailAddressProblem | null {
  if (!isValidEmailSyntax(address)) return 'invalid-syntax';
  const domain = emailDomain(address);
  if (isPlaceholderDomain(domain)) return 'placeholder-domain';
  if (!isDomainAllowed(domain, allowedDomains)) return 'domain-not-allowed';
  return null;
}

/** Drops repeated addresses, comparing case-insensitively and keeping the first spelling. */
export function dedupeEmailAddresses(addresses: Iterable<string>): string[] {
  const seen = new Set<string>();
  const unique: string[] = [];
  for (const address of addresses) {
    const key = address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(address);
  }
  return unique;
}
