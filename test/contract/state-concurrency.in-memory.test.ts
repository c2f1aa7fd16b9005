/** Two writers, one subscription, over the in-memory table service. */
import { inMemoryTables } from './backends.js';
import { stateConcurrencyContract } from './state-concurrency.contract.js';

stateConcurrencyContract(inMemoryTables());
