/** Table Storage's rules as the adapters rely on them, held against the in-memory table service. */
import { inMemoryTables } from './backends.js';
import { tableServiceContract } from './tables.contract.js';

tableServiceContract(inMemoryTables());
