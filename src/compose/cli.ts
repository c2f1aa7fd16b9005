/**
 * What the command line's commands are given, built from the environment: each asks for what it
 * needs, and the settings that needs (the parts of src/compose/settings.ts) are checked together
 * first, every one at fault named at once, before anything is built or any request sent.
 */
import { CredentialUnavailableError } from '@azure/identity';
import { createAzureCredential, describeCredentialFailure, shareTokens } from '../adapters/credential.js';
import { describeUnreachableStorage } from '../adapters/table-storage/connection.js';
import { openStateStore, parseStorageSetting, type TableStateStore } from '../adapters/table-storage/index.js';
import { unreachableEndpoint } from '../adapters/table-storage/table-errors.js';
import { openRepairClaims } from '../adapters/table-storage/repair-claims.js';
import type { Outbox } from '../alerts/ports.js';
import type { RepairClaims } from '../remediation/ports.js';
import type { AlertDelivery } from '../app/dependencies.js';
import { alertDelivery, openOutbox } from './alert-delivery.js';
import { ALERTING_SETTINGS } from './alerting-settings.js';
import { createAzureAdapters, type AzureAdapters } from './azure.js';
import { defineSettings, settingsPart, type Env } from './settings-schema.js';
import { CLOUD_SETTINGS, RETENTION_SETTINGS, storageIsSet, storageSettings } from './settings.js';

export interface CliNeeds {
  /** Table Storage, for this purpose (named when no storage is set: `scan --store`, `exempt`, …). */
  storeFor?: string;
  /** Table Storage only where a storage setting is present (the exemptions `scan`, `check` and `fix` honour), for this purpose. */
  storeIfSet?: string;
  /** The alerting settings (`scan --notify`). */
  alerting?: boolean;
}

export interface CliDependencies {
  azure: AzureAdapters;
  store?: TableStateStore;
  /** Who is repairing which subscription (beside the store): `fix` takes the app's claims too. */
  repairClaims?: RepairClaims;
  /** The alert e-mails (`scan --notify`): queued beside the store, then sent. */
  alerts?: AlertDelivery;
}

/** A part a command does not need: it reads no setting. */
const NOT_NEEDED = settingsPart({ fields: {}, value: () => undefined });

/** The Azure adapters, and the store and the alerting settings when `needs` asks for them. */
export function openCliDependencies(env: Env, needs: CliNeeds = {}): CliDependencies {
  const storeFor = needs.storeFor ?? (needs.storeIfSet !== undefined && storageIsSet(env) ? needs.storeIfSet : undefined);
  const settings = defineSettings({
    cloud: CLOUD_SETTINGS,
    storage: storeFor === undefined ? NOT_NEEDED : storageSettings(storageMissing(storeFor)),
    retention: storeFor === undefined ? NOT_NEEDED : RETENTION_SETTINGS,
    alerting: needs.alerting ? ALERTING_SETTINGS : NOT_NEEDED,
  }).read(env);
  const { cloud, storage, retention, alerting } = settings;
  // One token per scope for the whole run, whichever client asks (see shareTokens). The CLI exports
  // no telemetry, so its clients make no spans.
  const azure = createAzureAdapters(env, { cloud, credential: shareTokens(createAzureCredential(cloud)), spans: false });
  const store = storage
    ? openStateStore(parseStorageSetting(storage.value, storage.settingName), {
        credential: azure.credential,
        settingName: storage.settingName,
        ...(retention ? { retention } : {}),
      })
    : undefined;
  const alerts =
    store && alerting
      ? alertDelivery({
          settings: alerting,
          store,
          portalUrl: azure.cloud.portalUrl,
          credential: azure.credential,
          clock: () => new Date(),
        })
      : undefined;
  return {
    azure,
    ...(store ? { store, repairClaims: openRepairClaims(store.connection) } : {}),
    ...(alerts ? { alerts } : {}),
  };
}

/** The Azure adapters and the state store, for `purpose`. */
export function openCliStore(env: Env, purpose: string): { azure: AzureAdapters; store: TableStateStore } {
  const { azure, store } = openCliDependencies(env, { storeFor: purpose });
  if (!store) throw new Error(`${purpose}: no state store was opened`);
  return { azure, store };
}

/** The alert outbox beside the state tables, for `purpose`. */
export function openCliOutbox(env: Env, purpose: string): Promise<Outbox> {
  return openOutbox(openCliStore(env, purpose).store);
}

/**
 * Gets the token for Azure Resource Manager before any other work, so that a missing or refused
 * sign-in is the one thing a command says (describeCliFailure), not an error after progress
 * lines. The token is shared with the clients (shareTokens): the next request costs nothing.
 */
export async function signIn(azure: AzureAdapters, signal?: AbortSignal): Promise<void> {
  const token = await azure.credential.getToken(azure.cloud.tokenScope, signal ? { abortSignal: signal } : {});
  if (!token) throw new CredentialUnavailableError(`the credential gave no token for ${azure.cloud.tokenScope}`);
}

/**
 * One line a person can act on for the failures of the environment rather than of the command:
 * no Azure sign-in, or Table Storage out of reach (the endpoint named, never a secret). Undefined
 * for anything else.
 */
export function describeCliFailure(error: unknown, env: Env): string | undefined {
  const credential = describeCredentialFailure(error);
  if (credential) return credential;
  const unreachable = unreachableEndpoint(error);
  if (!unreachable) return undefined;
  const settingName = env.CONTACT_WATCH_STORAGE ? 'CONTACT_WATCH_STORAGE' : env.AzureWebJobsStorage ? 'AzureWebJobsStorage' : undefined;
  if (!settingName) return undefined;
  let target;
  try {
    target = parseStorageSetting(env[settingName]!, settingName);
  } catch {
    return undefined;
  }
  // Only a request to the storage endpoint is about the storage.
  if (unreachable.url !== undefined && !sameOrigin(unreachable.url, target.tableEndpoint)) return undefined;
  return describeUnreachableStorage(target, settingName, unreachable.reason);
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function storageMissing(purpose: string): string {
  return (
    `${purpose} needs Table Storage: set CONTACT_WATCH_STORAGE (or AzureWebJobsStorage) to a connection string, ` +
    'UseDevelopmentStorage=true (Azurite) or https://<account>.table.core.windows.net (managed identity)'
  );
}
