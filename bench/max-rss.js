// Preloaded into the benchmarked CLI process (node --import): reports its peak resident memory
// and, for diagnosis, the heap still in use at exit.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const { heapUsed, external, arrayBuffers } = process.memoryUsage();
  writeSync(
    2,
    `\n__bench_max_rss_kb=${process.resourceUsage().maxRSS} heapUsedMb=${(heapUsed / 2 ** 20).toFixed(0)} externalMb=${((external + arrayBuffers) / 2 ** 20).toFixed(0)}\n`,
  );
});
