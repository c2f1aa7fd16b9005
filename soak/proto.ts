import azureFunctions from '@azure/functions';
import { generateTenant } from '../test/azure-server/index.js';
import { startAppTestBed } from '../test/support/app.js';
import { createScanTimerHandler } from '../src/app/handlers/scan-timer.js';
import { openScanLease } from '../src/adapters/table-storage/scan-lease.js';
const tenant = generateTenant({ count: Number(process.argv[2] ?? 300), seed: 1 });
let now = Date.parse('2027-01-01T00:00:00Z');
const clock = () => new Date(now);
const bed = await startAppTestBed(tenant, { tablePrefix: 'soak', clock, tables: (process.argv[3] as any) ?? 'in-memory' });
bed.deps.lease = openScanLease(bed.deps.store.connection, { clock });
const handler = createScanTimerHandler(bed.deps);
const timer = { isPastDue: false, schedule: { adjustForDST: true } } as any;
const times: number[] = [];
for (let i = 0; i < 40; i++) {
  const t0 = performance.now();
  await handler(timer, new azureFunctions.InvocationContext({ invocationId: `t${i}`, functionName: 'scanTimer' }));
  times.push(performance.now() - t0);
  now += 30 * 60_000;
}
console.log(times.map((t) => t.toFixed(0)).join(' '), 'mails', bed.mail.messages.length, 'rss', process.memoryUsage().rss >> 20);
await bed.close();
