/**
 * Alerting put together for the CLI and the Functions app: the outbox beside the state tables, a
 * transport for each configured channel (ACS Email, a Teams workflow, a signed webhook), one
 * sender over them, and the alert service; and one alert run, as both do it.
 */
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { AcsEmailTransport, type AcsEmailTransportOptions } from '../adapters/email/acs-email-sender.js';
import type { JsonPostOptions } from '../adapters/http-channels/json-post.js';
import { SignedWebhookTransport } from '../adapters/http-channels/signed-webhook.js';
import { TeamsWorkflowTransport } from '../adapters/http-channels/teams-workflow.js';
import type { TableStateStore as StateStore } from '../adapters/table-storage/index.js';
import type { TableConnection } from '../adapters/table-storage/connection.js';
import { TableOutbox } from '../adapters/table-storage/outbox.js';
import { AlertService, type QueueOptions, type QueueResult } from '../alerts/alert-service.js';
import { listUndeliveredMessages, pruneDeliveredAlerts, type PruneResult } from '../alerts/outbox-admin.js';
import type { AlertDelivery } from '../app/dependencies.js';
import { OutboxSender, type ChannelSending, type OutboxSenderOptions, type RateLimit } from '../alerts/outbox-sender.js';
import type { AlertChannel } from '../core/outbox-states.js';
import type { AlertRecordStore, AlertRunner, DeliveryCounts, Outbox } from '../alerts/ports.js';
import type { DigestLimits } from '../alerts/templates.js';
import type { AlertingSettings } from './alerting-settings.js';
import { messageOf } from '../core/error-message.js';

export interface AlertingOptions {
  settings: AlertingSettings;
  /** The state store (its `loadSubscriptions`, `getSubscriptions` and `markAlerted`). */
  store: AlertRecordStore;
  /** The same table connection as the state store: the outbox is `<prefix>outbox` there. */
  tables: TableConnection;
  /** Azure portal of the cloud (AzureCloudSettings.portalUrl). */
  portalUrl: string;
  /** For CONTACT_WATCH_ACS_ENDPOINT; default DefaultAzureCredential. */
  credential?: TokenCredential;
  /**
   * The report page (the app's `GET /api/report`) that every alert e-mail links to; a digest that
   * lists only some subscriptions points there for the rest. Without it, no link. Recipients
   * forward mail: a URL without a function key or other secret. Default: settings.reportUrl
   * (CONTACT_WATCH_REPORT_URL).
   */
  reportUrl?: string;
  /** The e-mail rate. Default: settings.email.rate (CONTACT_WATCH_EMAIL_RATE_PER_MINUTE / _PER_HOUR). */
  rate?: RateLimit;
  limits?: DigestLimits;
  /** Anything else for the sender and the e-mail transport (poll interval, retries, back-off, ...). */
  sender?: SenderTuning;
  /** For the Teams and webhook transports (retries, timeout); tests turn the in-run retries off. */
  http?: JsonPostOptions;
  /** `app` defines the deployment's channel set; `cli` (the default) follows it (src/alerts/channel-set.ts). */
  runner?: AlertRunner;
}

/** What a caller may tune of the sending: the outbox sender's options and the e-mail transport's. */
export type SenderTuning = Partial<
  Omit<OutboxSenderOptions, 'outbox' | 'channels'> & Omit<AcsEmailTransportOptions, 'connection' | 'senderAddress'> & { rate: RateLimit }
>;

/** The configured channels, each with its transport and (for e-mail) its rate. */
function channelSending(options: AlertingOptions): Partial<Record<AlertChannel, ChannelSending>> {
  const { email, teams, webhook } = options.settings;
  const channels: Partial<Record<AlertChannel, ChannelSending>> = {};
  if (email) {
    const connection: AcsEmailTransportOptions['connection'] =
      email.acs.kind === 'connection-string'
        ? { connectionString: email.acs.connectionString }
        : { endpoint: email.acs.endpoint, credential: options.credential ?? new DefaultAzureCredential() };
    channels.email = {
      transport: new AcsEmailTransport({ ...options.sender, connection, senderAddress: email.senderAddress }),
      rate: options.rate ?? options.sender?.rate ?? email.rate,
    };
  }
  if (teams) channels.teams = { transport: new TeamsWorkflowTransport({ ...options.http, url: teams.workflowUrl }) };
  if (webhook) channels.webhook = { transport: new SignedWebhookTransport({ ...options.http, url: webhook.url, secret: webhook.secret }) };
  return channels;
}

export interface Alerting {
  service: AlertService;
  sender: OutboxSender;
  outbox: TableOutbox;
}

export async function createAlerting(options: AlertingOptions): Promise<Alerting> {
  const { settings } = options;
  const outbox = await TableOutbox.connect(options.tables);
  const sender = new OutboxSender({ ...options.sender, outbox, channels: channelSending(options) });
  const service = new AlertService({
    store: options.store,
    outbox,
    sender,
    channels: {
      ...(settings.email ? { email: { recipients: settings.email.recipients } } : {}),
      teams: Boolean(settings.teams),
      webhook: Boolean(settings.webhook),
    },
    settings: settings.alerts,
    template: {
      portalUrl: options.portalUrl,
      ...((options.reportUrl ?? settings.reportUrl) ? { reportUrl: options.reportUrl ?? settings.reportUrl } : {}),
    },
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.runner ? { runner: options.runner } : {}),
  });
  return { service, sender, outbox };
}

/** The alert outbox beside the state tables of `store`. */
export function openOutbox(store: Pick<StateStore, 'connection'>): Promise<Outbox> {
  return TableOutbox.connect(store.connection);
}

export interface AlertRunOptions extends Pick<QueueOptions, 'mode' | 'subscriptionIds'> {
  settings: AlertingSettings;
  /** The state store: the record of what is owed, and the tables the outbox sits beside. */
  store: StateStore;
  portalUrl: string;
  /** For CONTACT_WATCH_ACS_ENDPOINT; default DefaultAzureCredential. */
  credential?: TokenCredential;
  clock: () => Date;
  /** Anything else for the sender (retries, poll interval, client options). */
  sender?: AlertingOptions['sender'];
  /** For the Teams and webhook transports. */
  http?: AlertingOptions['http'];
  /** `app` for the Functions app, which defines the deployment's channel set; default `cli`. */
  runner?: AlertRunner;
}

/**
 * One alert run, as the CLI's `scan --notify`, the timer and the event handler all do it: queue what
 * is owed (recorded before anything is sent), then send what is pending. Throws when alerting
 * cannot start at all (the outbox unreachable) or queuing failed; a channel that fails only leaves
 * its messages queued. Callers report that and carry on, since whatever is owed stays owed for the
 * next run (and the app's event is retried).
 */
export async function queueAndDeliverAlerts(
  options: AlertRunOptions,
): Promise<{ queued: QueueResult; delivery: DeliveryCounts; pruned?: PruneResult }> {
  const { service, outbox } = await createAlerting({
    settings: options.settings,
    store: options.store,
    tables: options.store.connection,
    portalUrl: options.portalUrl,
    ...(options.credential ? { credential: options.credential } : {}),
    ...(options.sender ? { sender: options.sender } : {}),
    ...(options.http ? { http: options.http } : {}),
    ...(options.runner ? { runner: options.runner } : {}),
  });
  let queued: QueueResult;
  try {
    queued = await service.queueOwedAlerts({
      mode: options.mode,
      now: options.clock(),
      ...(options.subscriptionIds ? { subscriptionIds: options.subscriptionIds } : {}),
    });
  } catch (queueError) {
    // What is already in the outbox (this run's messages written before the failure, earlier
    // runs' messages) goes out on every channel all the same; the caller still sees the failure.
    // Should sending fail too, the queuing failure is the one reported: it is the cause.
    await service.deliverPending(options.clock()).catch(() => undefined);
    throw queueError;
  }
  const delivery = await service.deliverPending(options.clock());
  if (options.mode !== 'digest') return { queued, delivery };
  // Housekeeping once per scan (digest runs), never per event; best effort: what it leaves, the next scan deletes.
  const pruned = await pruneDeliveredAlerts(outbox, options.clock()).catch((error: unknown): PruneResult => ({
    messages: 0,
    claims: 0,
    error: messageOf(error),
  }));
  return { queued, delivery, pruned };
}

/** The app's alert delivery (the AlertDelivery port of src/app/dependencies.ts) over the outbox beside `store`. */
export function alertDelivery(options: Omit<AlertRunOptions, 'mode' | 'subscriptionIds'>): AlertDelivery {
  return {
    queueAndDeliver: (run) => queueAndDeliverAlerts({ ...options, ...run }),
    undelivered: async () => listUndeliveredMessages(await openOutbox(options.store)),
  };
}
