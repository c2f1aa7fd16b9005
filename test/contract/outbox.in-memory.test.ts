/** The alert outbox's claims and messages, over the in-memory table service. */
import { inMemoryTables } from './backends.js';
import { outboxContract } from './outbox.contract.js';

outboxContract(inMemoryTables());
