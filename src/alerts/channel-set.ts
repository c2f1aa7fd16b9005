/**
 * The deployment's channel set (docs/reference/alerts.md, "Runs with fewer channels"). An owed
 * alert is claimed once and the subscription marked alerted once, whichever run does it; so a run
 * that lacks a channel the deployment alerts through must not do it, or that channel never gets
 * the alert. The outbox keeps the channel names the deployment uses; each run compares its own.
 *
 * - The Functions app defines the set: it always records its own channels, so removing a channel
 *   from the app's settings removes it from the set at the app's next alert run (which says so).
 * - The CLI follows it: when the stored set has a channel the CLI lacks, the CLI claims and marks
 *   nothing. It records its own set only where no app has (none stored, or the stored one is the
 *   CLI's and it has nothing the run lacks), so a CLI-only deployment gets the same protection.
 */
import type { AlertChannel } from '../core/outbox-states.js';
import type { AlertRunner, Outbox } from './ports.js';

export interface ChannelSetCheck {
  /** Channels of the stored set this run lacks. A CLI run then leaves the owed alerts alone. */
  missing: string[];
  /** Channels the app dropped from the stored set (its settings no longer have them). */
  removed: string[];
}

/** Compares this run's channels with the stored set, and records them where this runner may. */
export async function checkChannelSet(
  outbox: Pick<Outbox, 'readChannelSet' | 'writeChannelSet'>,
  own: readonly AlertChannel[],
  runner: AlertRunner,
  now: string,
): Promise<ChannelSetCheck> {
  const stored = await outbox.readChannelSet();
  const lacking = stored ? stored.channels.filter((name) => !(own as readonly string[]).includes(name)) : [];
  if (runner === 'cli' && lacking.length > 0) return { missing: lacking, removed: [] };
  const unchanged = stored !== null && stored.writtenBy === runner && stored.channels.length === own.length && lacking.length === 0;
  const mayWrite = runner === 'app' || stored === null || stored.writtenBy === 'cli';
  // Written only when it changes: an event's alert run costs one read, not a write.
  if (mayWrite && !unchanged) await outbox.writeChannelSet({ channels: [...own], writtenAt: now, writtenBy: runner });
  return { missing: [], removed: runner === 'app' ? lacking : [] };
}
