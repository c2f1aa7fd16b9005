/**
 * Queues the alerts that are owed and delivers them (docs/reference/alerts.md), on every configured
 * channel: e-mail, a Teams workflow, a signed webhook.
 *
 * Before step 1, a run checks the deployment's channel set (channel-set.ts): a run without every
 * channel the deployment alerts through claims and marks nothing, so no channel misses an alert.
 *
 * The order of writes is what makes "nothing lost, nothing doubled" hold across crashes, retries
 * and two runs at once (the timer scan and an event about the same subscription):
 *
 *   1. claim each owed alert in the outbox under its occurrence key (insert-only: a second claim
 *      of the same occurrence fails, so only one run ever composes a message for it);
 *   2. write the message(s) for the claimed alerts, one per channel (per recipient group for
 *      e-mail), each with an operationId fixed now;
 *   3. mark the subscriptions alerted (lastAlertedAt = now), so the next run owes nothing more;
 *   4. send (deliverPending): every send of a message carries its operationId, and its outcome
 *      is recorded on the message.
 *
 * A crash after 1 leaves claims without a message: a later run (once `claimLeaseMs` has passed,
 * so it does not race a run still composing) writes the message from the stored claims. A crash
 * after 2 leaves the records unmarked (or some of a batch's messages unwritten): a later run hits
 * the existing claim, writes whichever messages are missing and marks the record (the claims name
 * the channels their batch was composed for, so the batch counts as whole only with a message on
 * each of them). A crash during 4
 * leaves the message pending, or accepted by the service: it is sent (or polled) again with the
 * same operationId, our idempotency key. The local ACS test service treats a repeated Operation-Id
 * as the same operation; Microsoft documents the header as the id of the long-running operation,
 * not as a promise against a second delivery; a webhook receiver gets it as the Idempotency-Key;
 * a Teams workflow cannot use it. So the places a message could still be doubled are a repeat of
 * an e-mail the real service had accepted, and of a Teams card the workflow had taken.
 */
import { createHash, randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { DEFAULT_ALERT_SETTINGS, owedAlerts, type AlertSettings, type OwedAlert } from '../core/alerts.js';
import { ALERT_CHANNELS, type AlertChannel } from '../core/outbox-states.js';
import { checkChannelSet } from './channel-set.js';
import type {
  AlertClaim,
  AlertMode,
  AlertRecordStore,
  AlertRunner,
  DeliveryCounts,
  NewOutboxMessage,
  Outbox,
  OutboxMessageContent,
} from './ports.js';
import { renderTeamsDigest, renderTeamsSingle } from './teams/adaptive-card.js';
import {
  composeDigests,
  DIGEST_LIMITS,
  renderDigest,
  renderSingle,
  type DigestLimits,
  type RenderedEmail,
  type TemplateContext,
} from './templates.js';
import { renderWebhookDocument } from './webhook/document.js';

/** ACS accepts at most 50 recipients (To + Cc + Bcc) in one message. */
export const MAX_RECIPIENTS_PER_MESSAGE = 50;

/** The channels alerts go out on: at least one. */
export interface AlertChannels {
  /** E-mail to the security team's addresses (CONTACT_WATCH_ALERT_RECIPIENTS). */
  email?: { recipients: readonly string[] };
  /** An Adaptive Card to a Teams workflow (CONTACT_WATCH_TEAMS_WORKFLOW_URL). */
  teams?: boolean;
  /** A signed JSON document to a webhook (CONTACT_WATCH_WEBHOOK_URL). */
  webhook?: boolean;
}

export interface AlertServiceOptions {
  store: AlertRecordStore;
  outbox: Outbox;
  /** Delivers the outbox (src/compose/alert-delivery.ts builds one with every configured channel). */
  sender: { sendPending(now: Date): Promise<DeliveryCounts> };
  channels: AlertChannels;
  settings?: AlertSettings;
  /** The portal of the cloud and the report page linked from every message. */
  template: Omit<TemplateContext, 'now'>;
  limits?: DigestLimits;
  /** How old a claim without a message must be before another run completes it (default 10 min). */
  claimLeaseMs?: number;
  /**
   * `app` defines the deployment's channel set; `cli` (the default) follows it and queues nothing
   * when the set has a channel it lacks (src/alerts/channel-set.ts).
   */
  runner?: AlertRunner;
}

export interface QueueOptions {
  /** `digest`: a scan, as few messages as the limits allow; `single`: one message per subscription (events). */
  mode: AlertMode;
  now: Date;
  /** Only these subscriptions (e.g. the one an event was about); default all. */
  subscriptionIds?: readonly string[];
}

export interface QueueResult {
  /** Alerts that were owed. */
  owed: number;
  /** Alerts queued by this run (claimed, with their message written). */
  queued: number;
  /** Messages written by this run (including ones completed for an earlier, interrupted run). */
  messages: number;
  /** Owed alerts an earlier or concurrent run had already queued (not queued again). */
  alreadyQueued: number;
  /** Subscriptions marked alerted. */
  marked: number;
  /** Channels the deployment alerts through that this run lacks: it claimed and marked nothing. */
  missingChannels: string[];
  /** Channels this (app) run removed from the deployment's channel set: its settings no longer have them. */
  removedChannels: string[];
}

/** A UUID derived from a name (RFC 4122 version 5 layout over SHA-1), so a message id can be recomputed. */
export function nameBasedUuid(name: string): string {
  const hash = createHash('sha1').update('contact-watch/outbox/').update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The operationId of the e-mail of `batchId` that goes to recipient group `group`. */
export function messageOperationId(batchId: string, group: number): string {
  return nameBasedUuid(`${batchId}#${group}`);
}

/** The operationId of the message of `batchId` on a channel other than e-mail (one message a batch). */
export function channelMessageId(batchId: string, channel: Exclude<AlertChannel, 'email'>): string {
  return nameBasedUuid(`${batchId}#${channel}`);
}

/** One message of a batch as this service writes it: its channel, id and recipients. */
interface BatchMessage {
  channel: AlertChannel;
  id: (batchId: string) => string;
  recipientGroup: number;
  to: string[];
}

export class AlertService {
  private readonly settings: AlertSettings;
  private readonly limits: DigestLimits;
  private readonly claimLeaseMs: number;
  /** The messages of every batch, in the order they are written (e-mail groups, then Teams, then the webhook). */
  private readonly batchMessages: BatchMessage[];
  /** Claims are independent inserts: a few at a time keeps a large first run quick. */
  private readonly limit = pLimit(8);

  constructor(private readonly options: AlertServiceOptions) {
    this.settings = options.settings ?? DEFAULT_ALERT_SETTINGS;
    this.limits = options.limits ?? DIGEST_LIMITS;
    this.claimLeaseMs = options.claimLeaseMs ?? 10 * 60_000;
    const { email, teams, webhook } = options.channels;
    this.batchMessages = [];
    if (email) {
      const recipients = [...new Set(email.recipients.map((address) => address.trim()).filter(Boolean))];
      if (recipients.length === 0) throw new Error('AlertService: no recipients (CONTACT_WATCH_ALERT_RECIPIENTS is empty)');
      for (let i = 0; i < recipients.length; i += MAX_RECIPIENTS_PER_MESSAGE) {
        const group = i / MAX_RECIPIENTS_PER_MESSAGE;
        const to = recipients.slice(i, i + MAX_RECIPIENTS_PER_MESSAGE);
        this.batchMessages.push({ channel: 'email', id: (batchId) => messageOperationId(batchId, group), recipientGroup: group, to });
      }
    }
    if (teams)
      this.batchMessages.push({ channel: 'teams', id: (batchId) => channelMessageId(batchId, 'teams'), recipientGroup: 0, to: [] });
    if (webhook) {
      this.batchMessages.push({ channel: 'webhook', id: (batchId) => channelMessageId(batchId, 'webhook'), recipientGroup: 0, to: [] });
    }
    if (this.batchMessages.length === 0) throw new Error('AlertService: no channel (e-mail, Teams or webhook) is configured');
  }

  /** Writes the messages for every alert owed at `now` into the outbox and marks the records. */
  async queueOwedAlerts(options: QueueOptions): Promise<QueueResult> {
    const { mode, now } = options;
    const nowIso = now.toISOString();
    const only = options.subscriptionIds ? new Set(options.subscriptionIds.map((id) => id.toLowerCase())) : null;
    // An event's alert reads only its own subscription, so its cost does not grow with the tenant.
    const ownChannels = [...new Set(this.batchMessages.map((message) => message.channel))];
    const channelSet = await checkChannelSet(this.options.outbox, ownChannels, this.options.runner ?? 'cli', nowIso);
    const records = only ? await this.options.store.getSubscriptions([...only]) : await this.options.store.loadSubscriptions();
    const owed = owedAlerts(records, now, this.settings);
    const result: QueueResult = {
      owed: owed.length,
      queued: 0,
      messages: 0,
      alreadyQueued: 0,
      marked: 0,
      missingChannels: channelSet.missing,
      removedChannels: channelSet.removed,
    };
    // A run without every channel of the deployment leaves the owed alerts to one that has them.
    if (owed.length === 0 || channelSet.missing.length > 0) return result;

    const ctx: TemplateContext = { ...this.options.template, now };
    const groups: Group[] =
      mode === 'digest'
        ? composeDigests(owed, ctx, this.limits).map((group, index, all) => ({ ...group, part: { index: index + 1, total: all.length } }))
        : owed.map((alert) => ({ alerts: [alert] }));

    const toMark = new Set<string>();
    const conflicts: AlertClaim[] = [];
    for (const [groupIndex, group] of groups.entries()) {
      const batchId = randomUUID();
      const outcomes = await Promise.all(
        group.alerts.map((alert) =>
          this.limit(() =>
            this.options.outbox.claimAlert({
              key: alert.key,
              batchId,
              mode,
              subscriptionId: alert.subscriptionId,
              kind: alert.kind,
              alert,
              createdAt: nowIso,
              channels: ownChannels,
            }),
          ),
        ),
      );
      const claimed: OwedAlert[] = [];
      outcomes.forEach((outcome, index) => {
        if (outcome.created) claimed.push(group.alerts[index]!);
        else conflicts.push(outcome.existing);
      });
      if (claimed.length === 0) continue;
      // All claimed: the pre-rendered digest part is right; otherwise render what we hold.
      const whole = claimed.length === group.alerts.length;
      const composed: Group = whole ? group : { alerts: claimed };
      try {
        result.messages += await this.writeMessages(batchId, mode, composed, ctx, nowIso, groupIndex);
      } catch (error) {
        // Claims without any message are released so the next run starts afresh. Once a message
        // exists (messages are written in order, the first first) the claims stay: the batch is
        // completed later. Best effort: a crash here is covered by completing the batch later too.
        const started = await this.options.outbox.getMessage(this.firstMessageId(batchId)).catch(() => 'unknown' as const);
        if (started === null) await this.options.outbox.releaseClaims(claimed.map((alert) => alert.key)).catch(() => undefined);
        throw error;
      }
      result.queued += claimed.length;
      for (const alert of claimed) toMark.add(alert.subscriptionId);
    }

    // Owed alerts someone already claimed: finish what that run may not have finished.
    const batches = new Map<string, AlertClaim[]>();
    for (const claim of conflicts) batches.set(claim.batchId, [...(batches.get(claim.batchId) ?? []), claim]);
    for (const [batchId, claimsOwed] of batches) {
      result.alreadyQueued += claimsOwed.length;
      const first = claimsOwed[0]!;
      // The batch is whole once it has a message on each channel it was composed for, whether
      // or not this run has that channel.
      const expected = this.messagesOfBatch(first.channels);
      // Its e-mail needs recipients this run does not have: left to a run with e-mail.
      if (!expected) continue;
      const leaseOver = now.getTime() - Date.parse(first.createdAt) >= this.claimLeaseMs;
      if (!leaseOver) {
        // A run that claimed moments ago may still be writing: leave the batch to it, but the
        // records may be marked once every message of the batch exists (a run that died between
        // two of them leaves the rest to be written once the lease is over).
        const written = await Promise.all(expected.map((message) => this.options.outbox.getMessage(message.id(batchId))));
        if (written.some((message) => message === null)) continue;
      } else {
        // Write whichever of the batch's messages are missing (existing ones are kept as they are).
        const all = await this.options.outbox.listClaims(batchId);
        // renderDigest puts them in triage order, as the message first composed for them had them.
        const alerts = all.map((claim) => claim.alert);
        result.messages += await this.writeMessages(batchId, first.mode, { alerts }, ctx, nowIso, 0, expected);
      }
      // Only the subscriptions whose owed alert is this very claim; the batch's other
      // subscriptions may have moved on to a newer status that still needs its own alert.
      for (const claim of claimsOwed) toMark.add(claim.subscriptionId);
    }

    if (toMark.size > 0) {
      await this.options.store.markAlerted([...toMark].sort(), now);
      result.marked = toMark.size;
    }
    return result;
  }

  /** Sends what the outbox holds (this run's messages and any left by earlier runs). */
  deliverPending(now: Date): Promise<DeliveryCounts> {
    return this.options.sender.sendPending(now);
  }

  /** The id of the first message written for a batch: once it exists, the batch's claims are kept. */
  private firstMessageId(batchId: string): string {
    return this.batchMessages[0]!.id(batchId);
  }

  /**
   * The messages of a batch composed for `channels` (this run's own when the claims predate
   * recording them). A Teams or webhook message can be written without that channel's settings
   * (where it goes is never stored): it waits in the outbox for a run that has them. An e-mail
   * cannot (its recipients are part of it): null when the batch needs one and this run has none.
   */
  private messagesOfBatch(channels: readonly AlertChannel[] | undefined): BatchMessage[] | null {
    if (!channels) return this.batchMessages;
    const messages: BatchMessage[] = [];
    for (const channel of ALERT_CHANNELS) {
      if (!channels.includes(channel)) continue;
      const own = this.batchMessages.filter((message) => message.channel === channel);
      if (own.length > 0) messages.push(...own);
      else if (channel === 'email') return null;
      else messages.push({ channel, id: (batchId) => channelMessageId(batchId, channel), recipientGroup: 0, to: [] });
    }
    return messages;
  }

  /** What the group's alerts say on `channel`; a digest's e-mail may come rendered already (composeDigests). */
  private content(channel: AlertChannel, group: Group, mode: AlertMode, ctx: TemplateContext): OutboxMessageContent {
    const single = mode === 'single' && group.alerts.length === 1 ? group.alerts[0]! : undefined;
    switch (channel) {
      case 'email': {
        const email: RenderedEmail =
          group.email ?? (single ? renderSingle(single, ctx) : renderDigest(group.alerts, ctx, group.part, this.limits.maxMessageBytes));
        return { ...email, body: '' };
      }
      case 'teams': {
        const card = single ? renderTeamsSingle(single, ctx) : renderTeamsDigest(group.alerts, ctx, group.part);
        return { subject: card.subject, html: '', plainText: '', body: card.body };
      }
      case 'webhook': {
        const document = renderWebhookDocument(group.alerts, single ? 'single' : 'digest', ctx, group.part);
        return { subject: document.subject, html: '', plainText: '', body: document.body };
      }
    }
  }

  /** Every message of the batch, ids derived from the batch so that a rewrite finds them; each channel's content composed once. */
  private async writeMessages(
    batchId: string,
    mode: AlertMode,
    group: Group,
    ctx: TemplateContext,
    createdAt: string,
    order: number,
    messages: readonly BatchMessage[] = this.batchMessages,
  ): Promise<number> {
    let written = 0;
    const contents = new Map<AlertChannel, OutboxMessageContent>();
    for (const [index, planned] of messages.entries()) {
      let content = contents.get(planned.channel);
      if (!content) {
        content = this.content(planned.channel, group, mode, ctx);
        contents.set(planned.channel, content);
      }
      const message: NewOutboxMessage = {
        operationId: planned.id(batchId),
        batchId,
        channel: planned.channel,
        recipientGroup: planned.recipientGroup,
        mode,
        to: planned.to,
        ...content,
        subscriptionIds: group.alerts.map((alert) => alert.subscriptionId),
        alertKeys: group.alerts.map((alert) => alert.key),
        createdAt,
        sequence: order * messages.length + index,
      };
      if ((await this.options.outbox.createMessage(message)) === 'created') written += 1;
    }
    return written;
  }
}

/** The alerts of one batch; a digest's part number, and its e-mail when composeDigests rendered it. */
interface Group {
  alerts: OwedAlert[];
  part?: { index: number; total: number };
  email?: RenderedEmail;
}
