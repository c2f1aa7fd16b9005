// Preloaded into the benchmarked CLI process (node --import): reports its peak resident memory.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\n__bench_max_rss_kb=${process.resourceUsage().maxRSS}\n`);
});
