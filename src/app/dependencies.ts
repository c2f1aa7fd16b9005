/**
 * What every handler of the Functions app receives: the ports it works through and the settings
 * it reads. The composition root (src/compose/app.ts) builds them from the app settings; a test
 * builds them from its own adapters. Handlers never build an adapter themselves.
 */
import type { InvocationContext } from '@azure/functions';
import type { QueueResult } from '../alerts/alert-service.js';
import type { PruneResult } from '../alerts/outbox-admin.js';
import type { AlertMode, DeliveryCounts, OutboxMessage } from '../alerts/ports.js';
import type { AlertSettings } from '../core/alerts.js';
import type { Policy } from '../core/model.js';
import type { RepairClaims, SecurityContactWriter } from '../remediation/ports.js';
import type {
  ScanLease,
  ScanReportStore,
  SecurityContactsSource,
  StateStore,
  SubscriptionLookup,
  TenantInventorySource,
} from '../scan/ports.js';
import type { KnownSubscriptionIds, SubscriptionIdSource } from '../scan/watch-ports.js';

/** The settings the handlers read; the app settings (src/compose/app-settings.ts) hold these and more. */
export interface HandlerSettings {
  /** CONTACT_WATCH_POLICY (default policy when unset). */
  policy: Policy;
  /** CONTACT_WATCH_REMEDIATION: whether the app repairs contacts itself (off unless set). */
  remediation: { enabled: boolean };
  /** Reminder days, the new-subscription grace period, fixed notices. */
  alerting: { alerts: AlertSettings };
  /** The Azure portal of the cloud the app runs in, for links in pages and e-mails. */
  cloud: { portalUrl: string };
}

/** One alert run: what was queued, what each channel's service took, and (after a scan) what was pruned. */
export interface AlertRun {
  queued: QueueResult;
  delivery: DeliveryCounts;
  pruned?: PruneResult;
}

/** The alert messages (e-mail, Teams, webhook): queued in the outbox before anything is sent, then sent. */
export interface AlertDelivery {
  /**
   * Queues what is owed (a digest after a scan, one message for the subscriptions an event
   * evaluated), then sends what is pending. Throws only when alerting cannot start at all (outbox
   * unreachable): whatever is owed stays owed for the next run.
   */
  queueAndDeliver(options: { mode: AlertMode; subscriptionIds?: string[] }): Promise<AlertRun>;
  /** The alert messages not delivered yet, on every channel (the operator page's "Alert e-mails" section). */
  undelivered(): Promise<OutboxMessage[]>;
}

/** Structured log lines, one JSON object per meaningful event (src/adapters/structured-log.ts). */
export type AppLog = (context: InvocationContext, event: string, fields?: Record<string, unknown>) => void;

export interface AppDependencies {
  settings: HandlerSettings;
  azure: {
    inventory: TenantInventorySource;
    /** The tenant's subscription ids and states alone, for the new-subscription watch. */
    subscriptionIds: SubscriptionIdSource;
    contacts: SecurityContactsSource;
    subscriptions: SubscriptionLookup;
    /** Used only when settings.remediation is on. */
    writer: SecurityContactWriter;
  };
  store: StateStore & KnownSubscriptionIds;
  /** Who is repairing which subscription, across instances. */
  repairClaims: RepairClaims;
  lease: ScanLease;
  /** Each scan's status and report, for GET /api/scans/{scanId}. */
  scanReports: ScanReportStore;
  alerts: AlertDelivery;
  clock: () => Date;
  log: AppLog;
}
