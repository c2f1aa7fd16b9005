/**
 * What the command line prints about the record: the exemptions, the outbox, a requeue, and an
 * alert run after a stored scan; and how `check` shows an error that every rule shares.
 */
import type { RequeueOutcome } from '../alerts/outbox-admin.js';
import type { ChannelDeliveryCounts, DeliveryCounts, NextAttempt, OutboxMessage } from '../alerts/ports.js';
import { ALERT_CHANNEL_LABELS, ALERT_CHANNELS, isGivenUp, type AlertChannel } from '../core/outbox-states.js';
import { isExemptionActive } from '../core/exemptions.js';
import type { Exemption } from '../core/state-model.js';
import type { SubscriptionVerdict } from '../core/model.js';

/** How the command line names each channel, who answers there, and what configures it. */
const CHANNEL_WORDS: Record<AlertChannel, { label: string; service: string; settings: string }> = {
  email: { label: ALERT_CHANNEL_LABELS.email, service: 'the e-mail service', settings: 'CONTACT_WATCH_ACS_ENDPOINT' },
  teams: { label: ALERT_CHANNEL_LABELS.teams, service: 'the Teams workflow', settings: 'CONTACT_WATCH_TEAMS_WORKFLOW_URL' },
  webhook: { label: ALERT_CHANNEL_LABELS.webhook, service: 'the webhook receiver', settings: 'CONTACT_WATCH_WEBHOOK_URL' },
};

/**
 * `2 message(s) sent, 1 still queued: next attempt due …; 1 failed and kept in the outbox (…)`,
 * once per channel (`e-mail: … | Teams: …`) when more than one channel has messages or is configured.
 */
export function describeDelivery(delivery: DeliveryCounts, now: Date): string {
  const channels = ALERT_CHANNELS.filter((channel) => delivery.channels[channel]);
  if (channels.length <= 1) return describeChannel(delivery, channels[0] ?? 'email', now);
  return channels
    .map((channel) => `${CHANNEL_WORDS[channel].label}: ${describeChannel(delivery.channels[channel]!, channel, now)}`)
    .join(' | ');
}

/**
 * Why a run left the owed alerts alone: `the deployment also alerts through Teams and webhook; this
 * run has no Teams or webhook settings, …`. Names only, never where a channel delivers.
 */
export function describeMissingChannels(missing: readonly string[]): string {
  const labels = missing.map((name) => (name in CHANNEL_WORDS ? CHANNEL_WORDS[name as AlertChannel].label : name));
  const settings = missing.map((name) => (name in CHANNEL_WORDS ? CHANNEL_WORDS[name as AlertChannel].settings : name));
  return (
    `the deployment also alerts through ${labels.join(' and ')}; this run has no ${labels.join(' or ')} settings (${settings.join(', ')}), ` +
    'so it leaves the owed alerts to a run that has them (it sent what was already queued on its own channels)'
  );
}

function describeChannel(delivery: ChannelDeliveryCounts, channel: AlertChannel, now: Date): string {
  const queued =
    delivery.pending > 0 ? `${delivery.pending} still queued: ${describeNextAttempt(delivery.nextAttempt, channel, now)}` : '0 queued';
  const failed = delivery.failed > 0 ? `; ${delivery.failed} failed and kept in the outbox (contact-watch outbox)` : '';
  return `${delivery.sent} message(s) sent, ${queued}${failed}`;
}

function describeNextAttempt(next: NextAttempt | null, channel: AlertChannel, now: Date): string {
  const atNextRun = "next attempt due now, at the next run (the timer's, or scan --notify)";
  if (!next) return atNextRun;
  if (next.reason === 'not-configured') {
    return `not sent while ${CHANNEL_WORDS[channel].label} is not configured: set ${CHANNEL_WORDS[channel].settings} again to send what is queued`;
  }
  const inMs = Date.parse(next.at) - now.getTime();
  if (next.reason === 'next-run' || !(inMs > 0)) return atNextRun;
  const when = `next attempt due ${next.at} (in ${Math.max(1, Math.ceil(inMs / 60_000))} min)`;
  switch (next.reason) {
    case 'retry-after':
      return `${when}, as ${CHANNEL_WORDS[channel].service} asked`;
    case 'rate-limit':
      return `${when}, when the sending rate allows (CONTACT_WATCH_EMAIL_RATE_PER_MINUTE, CONTACT_WATCH_EMAIL_RATE_PER_HOUR)`;
    case 'leased':
      return `${when}, when another run's hold on it ends`;
  }
}

export function renderExemptions(exemptions: readonly Exemption[], format: 'table' | 'json', now: Date): string {
  const rows = exemptions.map((exemption) => ({ ...exemption, active: isExemptionActive(exemption, now) }));
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (rows.length === 0) return 'No exemptions.\n';
  const header = ['SUBSCRIPTION', 'EXPIRES', 'STATE', 'OWNER', 'REASON'];
  const cells = rows.map((row) => [row.subscriptionId, row.expiresOn, row.active ? 'active' : 'EXPIRED', row.owner, oneLine(row.reason)]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ');
  return `${[line(header), ...cells.map(line)].join('\n')}\n`;
}

function oneLine(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

/** `contact-watch outbox`: one row per message not delivered, on any channel (the content itself stays in storage). */
export function renderOutbox(messages: readonly OutboxMessage[], format: 'table' | 'json'): string {
  if (format === 'json') {
    const rows = messages.map((message) => ({
      operationId: message.operationId,
      channel: message.channel,
      state: message.state,
      createdAt: message.createdAt,
      mode: message.mode,
      subject: message.subject,
      to: message.to,
      subscriptionIds: message.subscriptionIds,
      attempts: message.attempts,
      failures: message.failures,
      lastError: message.lastError,
      nextAttemptAt: message.nextAttemptAt,
      acceptedAt: message.acceptedAt,
    }));
    return `${JSON.stringify(rows, null, 2)}\n`;
  }
  if (messages.length === 0) return 'Every alert message has been delivered.\n';
  const header = ['OPERATION ID', 'CHANNEL', 'STATE', 'CREATED', 'SUBSCRIPTIONS', 'ATTEMPTS', 'LAST ERROR'];
  const cells = messages.map((message) => [
    message.operationId,
    message.channel,
    isGivenUp(message.state) ? message.state.toUpperCase() : message.state,
    message.createdAt.slice(0, 16).replace('T', ' '),
    String(message.subscriptionIds.length),
    String(message.attempts),
    oneLine(message.lastError ?? ''),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  const givenUp = messages.filter((message) => isGivenUp(message.state)).length;
  const hint =
    givenUp > 0
      ? `\n${givenUp} failed or given up: \`contact-watch requeue <operation id>\` (or --all) queues them for the next alert run.\n`
      : '';
  return `${[line(header), ...cells.map(line)].join('\n')}\n${hint}`;
}

export function renderRequeueOutcome(outcome: RequeueOutcome): string {
  switch (outcome.outcome) {
    case 'requeued': {
      const as =
        outcome.sendsAs === outcome.operationId
          ? ''
          : ` as ${outcome.sendsAs} (a new Operation-Id: the service answers the old one with its failure)`;
      return `${outcome.operationId} (${outcome.from}) is queued again${as}; the next alert run (the timer, or scan --notify) sends it.`;
    }
    case 'not-found':
      return `${outcome.operationId}: no such message in the outbox.`;
    case 'not-given-up':
      return `${outcome.operationId} is ${outcome.state}: only failed or given-up messages are requeued.`;
  }
}

/**
 * A contact that could not be read fails every rule with the same error; the table shows that
 * error once, on the first rule, and "(as above)" on the others. The JSON keeps every finding whole.
 */
export function withEachErrorOnce(verdict: SubscriptionVerdict): SubscriptionVerdict {
  const shown = new Set<string>();
  const findings = verdict.findings.map((finding) => {
    if (finding.result !== 'error') return finding;
    if (!shown.has(finding.message)) {
      shown.add(finding.message);
      return finding;
    }
    return { ...finding, message: '(as above)' };
  });
  return { ...verdict, findings };
}
