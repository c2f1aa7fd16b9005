/**
 * The alert e-mails: a digest covering many subscriptions (a scan) and a message about one
 * subscription (an event), each as subject + HTML + plain text. The parts live in email/, one job
 * each: what is said (wording.ts), how to fix (fix-instructions.ts), values from Azure made safe
 * (safe-text.ts), the subject (subject.ts), the HTML body (html-body.ts), the text body
 * (text-body.ts), both bodies as blocks (blocks.ts), and the messages (single.ts, digest.ts).
 */
export { composeDigests, DIGEST_LIMITS, renderDigest, type DigestLimits, type DigestPart } from './email/digest.js';
export { subjectSafe } from './email/safe-text.js';
export { renderSingle } from './email/single.js';
export type { RenderedEmail, TemplateContext } from './email/template-context.js';
