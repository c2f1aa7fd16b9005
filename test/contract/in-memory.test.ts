/**
 * Every contract suite over the in-memory adapters: the Table Storage adapters over the in-memory
 * table service (one service per suite, as each Azurite-backed file has its own Azurite), and the
 * in-memory mail sender. The same suites run against Azurite and the local ACS service from
 * test/integration. One file, so that the SDKs are loaded once for all of them.
 */
import { describe } from 'vitest';
import { InMemoryEmailSender } from '../../src/adapters/in-memory/email-sender.js';
import { inMemoryTables } from './backends.js';
import { emailSenderContract } from './email-sender.contract.js';
import { outboxContract } from './outbox.contract.js';
import { scanLeaseContract } from './scan-lease.contract.js';
import { scanReportsContract } from './scan-reports.contract.js';
import { stateConcurrencyContract } from './state-concurrency.contract.js';
import { stateExemptionsContract } from './state-exemptions.contract.js';
import { stateRunsContract } from './state-runs.contract.js';
import { tableServiceContract } from './tables.contract.js';

describe('Table Storage rules, in-memory table service', () => tableServiceContract(inMemoryTables()));
describe('state store runs, in-memory', () => stateRunsContract(inMemoryTables()));
describe('state store concurrency, in-memory', () => stateConcurrencyContract(inMemoryTables()));
describe('state store exemptions and tables, in-memory', () => stateExemptionsContract(inMemoryTables()));
describe('scan reports, in-memory', () => scanReportsContract(inMemoryTables()));
describe('alert outbox, in-memory', () => outboxContract(inMemoryTables()));
describe('scan lease, in-memory', () => scanLeaseContract(inMemoryTables()));

describe('mail transport, in-memory sender', () => {
  const senderAddress = 'DoNotReply@contoso-alerts.example.net';
  const sender = new InMemoryEmailSender({ senderAddress });
  emailSenderContract({
    name: 'in-memory sender',
    senderAddress,
    transport: () => sender,
    messages: () => sender.messages,
    sendAttempts: () => sender.sendAttempts,
    throttleNextSend: (retryAfterSeconds) => sender.faults.add({ kind: 'throttle', retryAfterSeconds }),
    refuseNextSend: (status, code) => sender.faults.add({ kind: 'refuse', status, code }),
    failNextDelivery: () => sender.faults.add({ kind: 'fail-delivery' }),
    reset: () => sender.reset(),
  });
});
