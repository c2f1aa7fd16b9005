/**
 * The soak's one source of chance: every decision draws from it, so a seed replays a run.
 */
import { seededRandom } from '../azure-server/index.js';

export class SoakRandom {
  private readonly source: () => number;

  constructor(readonly seed: number) {
    this.source = seededRandom(seed);
  }

  next(): number {
    return this.source();
  }

  chance(probability: number): boolean {
    return probability > 0 && this.source() < probability;
  }

  /** A whole number in [low, high]. */
  between(low: number, high: number): number {
    return low + Math.floor(this.source() * (high - low + 1));
  }

  pick<T>(values: readonly T[]): T {
    if (values.length === 0) throw new Error('SoakRandom.pick: nothing to pick from');
    return values[Math.floor(this.source() * values.length)]!;
  }

  /** A version-4 GUID in lower case. */
  guid(): string {
    let hex = '';
    for (let i = 0; i < 4; i++)
      hex += Math.floor(this.source() * 0x1_0000_0000)
        .toString(16)
        .padStart(8, '0');
    const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  /** A derived stream for one concern, so that adding draws elsewhere does not shift it. */
  fork(salt: number): SoakRandom {
    return new SoakRandom((this.seed * 0x9e3779b1 + salt) >>> 0);
  }
}
