/**
 * Alerting put together for the CLI and the Functions app: the outbox beside the state tables, the
 * ACS Email sender, and the alert service; and one alert run, as both do it.
 */
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { createAcsEmailSender, type AcsEmailSenderOptions } from '../adapters/email/acs-email-sender.js';
import type { TableStateStore as StateStore } from '../adapters/table-storage/index.js';
import type { TableConnection } from '../adapters/table-storage/connection.js';
import { TableOutbox } from '../adapters/table-storage/outbox.js';
import { AlertService, type QueueOptions, type QueueResult } from '../alerts/alert-service.js';
import { listUndeliveredMessages, pruneDeliveredAlerts, type PruneResult } from '../alerts/outbox-admin.js';
import type { AlertDelivery } from '../app/dependencies.js';
import type { OutboxSender } from '../alerts/outbox-sender.js';
import type { AlertRecordStore, DeliveryCounts, Outbox } from '../alerts/ports.js';
import type { DigestLimits } from '../alerts/templates.js';
import type { AlertingSettings } from './alerting-settings.js';

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
  /** Default: settings.rate (CONTACT_WATCH_EMAIL_RATE_PER_MINUTE / _PER_HOUR). */
  rate?: { perMinute: number; perHour: number };
  limits?: DigestLimits;
  /** Anything else for the sender (poll interval, retries, back-off, ...). */
  sender?: Partial<Omit<AcsEmailSenderOptions, 'outbox' | 'connection' | 'senderAddress'>>;
}

export interface Alerting {
  service: AlertService;
  sender: OutboxSender;
  outbox: TableOutbox;
}

export async function createAlerting(options: AlertingOptions): Promise<Alerting> {
  const { settings } = options;
  const outbox = await TableOutbox.connect(options.tables);
  const connection: AcsEmailSenderOptions['connection'] =
    settings.acs.kind === 'connection-string'
      ? { connectionString: settings.acs.connectionString }
      : { endpoint: settings.acs.endpoint, credential: options.credential ?? new DefaultAzureCredential() };
  const sender = createAcsEmailSender({
    ...options.sender,
    outbox,
    connection,
    senderAddress: settings.senderAddress,
    rate: options.rate ?? options.sender?.rate ?? settings.rate,
  });
  const service = new AlertService({
    store: options.store,
    outbox,
    sender,
    recipients: settings.recipients,
    settings: settings.alerts,
    template: {
      portalUrl: options.portalUrl,
      ...((options.reportUrl ?? settings.reportUrl) ? { reportUrl: options.reportUrl ?? settings.reportUrl } : {}),
    },
    ...(options.limits ? { limits: options.limits } : {}),
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
}

/**
 * One alert run, as the CLI's `scan --notify`, the timer and the event handler all do it: queue what
 * is owed (recorded before anything is sent), then send what is pending. Throws only when alerting
 * cannot start at all (outbox or mail service unreachable); callers report that and carry on, since
 * whatever is owed stays owed for the next run.
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
  });
  const queued = await service.queueOwedAlerts({
    mode: options.mode,
    now: options.clock(),
    ...(options.subscriptionIds ? { subscriptionIds: options.subscriptionIds } : {}),
  });
  const delivery = await service.deliverPending(options.clock());
  if (options.mode !== 'digest') return { queued, delivery };
  // Housekeeping once per scan (digest runs), never per event; best effort: what it leaves, the next scan deletes.
  const pruned = await pruneDeliveredAlerts(outbox, options.clock()).catch((error: unknown): PruneResult => ({
    messages: 0,
    claims: 0,
    error: error instanceof Error ? error.message : String(error),
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
