/** Exemptions and the tables a new store creates, over the in-memory table service. */
import { inMemoryTables } from './backends.js';
import { stateExemptionsContract } from './state-exemptions.contract.js';

stateExemptionsContract(inMemoryTables());
