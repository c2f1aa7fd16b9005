/**
 * The alerts as the JSON document a webhook receives (docs/reference/alerts.md "The webhook"): one
 * document per digest listing every alert it covers, or one about the subscription an event
 * evaluated. It is data for a program: values from Azure are kept as they are (a display name cut
 * at 256 characters, a rule's message at 500, with a marker saying how much was cut), and each
 * bidirectional control character is written as a `\uXXXX` escape, which is the same character
 * to a JSON parser and inert to a person reading the raw text.
 *
 * Size: the document is stored in the outbox before it is sent (one table entity), so the rules'
 * findings and a repair's details are given for as many alerts as fit in WEBHOOK_DETAIL_BYTES; the
 * rest are still listed, with their key, subscription, kind, status and since, and
 * `findingsOmitted` counts them.
 *
 * The sender adds `deliveryId` (the message's Idempotency-Key) as the first property when it sends
 * the document, so that the id is covered by the signature.
 */
import { escapeBidiControlsInJson } from '../../report/azure-text.js';
import { cut } from '../../core/record-bounds.js';
import type { OwedAlert } from '../../core/alerts.js';
import { subscriptionOverviewUrl } from '../../core/azure-portal.js';
import { inTriageOrder } from '../../report/triage-order.js';
import { digestSubject, singleSubject } from '../email/subject.js';
import { guidOrNull } from '../email/safe-text.js';
import { reportPageUrl, type TemplateContext } from '../email/template-context.js';
import { countStatuses, PRODUCT } from '../email/wording.js';
import type { AlertMode } from '../ports.js';

/** The document's format; a change that is not backward compatible raises it. */
export const WEBHOOK_SCHEMA_VERSION = 1;
/** How much of a document the alerts' details (findings, repairs) may take. */
export const WEBHOOK_DETAIL_BYTES = 256 * 1024;
const DISPLAY_NAME_MAX = 256;
const MESSAGE_MAX = 500;

export interface RenderedWebhookDocument {
  subject: string;
  /** The document as JSON text (without `deliveryId`, which the sender adds). */
  body: string;
}

/** One alert in the document. */
export interface WebhookAlert {
  /** The alert's occurrence key: the same alert always has the same key. */
  key: string;
  kind: OwedAlert['kind'];
  subscriptionId: string;
  displayName: string;
  status: OwedAlert['status'];
  since: string;
  portalUrl?: string;
  /** The rules that did not pass; absent when the document left details out. */
  findings?: { ruleId: string; result: string; message: string }[];
  repair?: { at: string; by: string; outcome: string; changes: string[]; reason?: string };
}

export interface WebhookDocument {
  schemaVersion: number;
  source: typeof PRODUCT;
  mode: AlertMode;
  subject: string;
  composedAt: string;
  part?: { index: number; total: number };
  reportUrl?: string;
  counts: ReturnType<typeof countStatuses>;
  /** Alerts listed without their findings and repair, to keep the document within its size. */
  findingsOmitted: number;
  alerts: WebhookAlert[];
}

function listed(alert: OwedAlert, ctx: TemplateContext): WebhookAlert {
  const id = guidOrNull(alert.subscriptionId);
  const portalUrl = id ? subscriptionOverviewUrl(ctx.portalUrl, id) : undefined;
  return {
    key: alert.key,
    kind: alert.kind,
    subscriptionId: alert.subscriptionId,
    displayName: cut(alert.displayName, DISPLAY_NAME_MAX),
    status: alert.status,
    since: alert.since,
    ...(portalUrl ? { portalUrl } : {}),
  };
}

function detailed(alert: OwedAlert, ctx: TemplateContext): WebhookAlert {
  const repair = alert.repair;
  return {
    ...listed(alert, ctx),
    findings: alert.findings.map((finding) => ({
      ruleId: finding.ruleId,
      result: finding.result,
      message: cut(finding.message, MESSAGE_MAX),
    })),
    ...(repair
      ? {
          repair: {
            at: repair.at,
            by: cut(repair.by, DISPLAY_NAME_MAX),
            outcome: repair.outcome,
            changes: repair.changes.slice(0, 20).map((change) => cut(change, MESSAGE_MAX)),
            ...(repair.reason ? { reason: cut(repair.reason, MESSAGE_MAX) } : {}),
          },
        }
      : {}),
  };
}

/** The document about `alerts`: a digest's (a scan's) or one subscription's (an event's). */
export function renderWebhookDocument(
  alerts: readonly OwedAlert[],
  mode: AlertMode,
  ctx: TemplateContext,
  part?: { index: number; total: number },
): RenderedWebhookDocument {
  const ordered = inTriageOrder(alerts);
  const subject = mode === 'single' && ordered.length === 1 ? singleSubject(ordered[0]!) : digestSubject(ordered, part);
  let detail = 0;
  const entries = ordered.map((alert) => {
    const full = detailed(alert, ctx);
    const size = Buffer.byteLength(JSON.stringify(full));
    if (detail + size > WEBHOOK_DETAIL_BYTES) return listed(alert, ctx);
    detail += size;
    return full;
  });
  const reportUrl = reportPageUrl(ctx);
  const document: WebhookDocument = {
    schemaVersion: WEBHOOK_SCHEMA_VERSION,
    source: PRODUCT,
    mode,
    subject,
    composedAt: ctx.now.toISOString(),
    ...(mode === 'digest' && part ? { part } : {}),
    ...(reportUrl ? { reportUrl } : {}),
    counts: countStatuses(ordered),
    findingsOmitted: entries.filter((entry) => entry.findings === undefined).length,
    alerts: entries,
  };
  return { subject, body: escapeBidiControlsInJson(JSON.stringify(document)) };
}

/**
 * The document as sent: `deliveryId` first, then the stored document's properties. Sent this way,
 * the id is part of the signed body; and a requeued copy (a new id) carries its own.
 */
export function withDeliveryId(body: string, deliveryId: string): string {
  if (!body.startsWith('{')) throw new Error('a webhook document is a JSON object');
  const rest = body.slice(1).trimStart();
  return `{"deliveryId":${JSON.stringify(deliveryId)}${rest.startsWith('}') ? '' : ','}${rest}`;
}
