/**
 * Progress on stderr for long scans: a line when each phase starts and, while the
 * securityContacts API confirms doubtful subscriptions (which begins while Resource Graph is still
 * being read), a count at most every two seconds.
 */
import type { ScanProgress } from '../scan/scan.js';

const INTERVAL_MS = 2_000;

export function createProgressReporter(stderr: (text: string) => void): { update: (progress: ScanProgress) => void; stop: () => void } {
  let lastPhase: ScanProgress['phase'] | undefined;
  let lastPrinted = 0;
  return {
    update(progress) {
      if (progress.phase !== lastPhase) {
        lastPhase = progress.phase;
        if (progress.phase === 'inventory') stderr('contact-watch: reading subscriptions and security contacts from Resource Graph…\n');
        if (progress.phase === 'confirming' && progress.toConfirm > 0) {
          const already = progress.confirmed > 0 ? ` (${progress.confirmed} done while Resource Graph was read)` : '';
          stderr(
            `contact-watch: ${progress.subscriptions} subscription(s); confirming ${progress.toConfirm} with the securityContacts API${already}…\n`,
          );
        }
        lastPrinted = Date.now();
        return;
      }
      if (Date.now() - lastPrinted < INTERVAL_MS) return;
      if (progress.phase === 'confirming') {
        lastPrinted = Date.now();
        stderr(`contact-watch: confirmed ${progress.confirmed}/${progress.toConfirm}\n`);
      } else if (progress.phase === 'inventory' && progress.confirmed > 0) {
        lastPrinted = Date.now();
        stderr(
          `contact-watch: ${progress.subscriptions} subscription(s) listed so far; confirmed ${progress.confirmed}/${progress.toConfirm} doubtful ones…\n`,
        );
      }
    },
    stop() {
      lastPhase = undefined;
    },
  };
}
