/** The alert outbox against Azurite: the contract in test/contract/outbox.contract.ts (claims and messages). */
import { azuriteTables } from '../../../contract/backends.js';
import { outboxContract } from '../../../contract/outbox.contract.js';

outboxContract(azuriteTables());
