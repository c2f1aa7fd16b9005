/** The state store's runs, history, exemptions and pruning, over the in-memory table service. */
import { inMemoryTables } from './backends.js';
import { stateRunsContract } from './state-runs.contract.js';

stateRunsContract(inMemoryTables());
