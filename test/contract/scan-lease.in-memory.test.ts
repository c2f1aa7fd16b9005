/** The scan lease, over the in-memory table service. */
import { inMemoryTables } from './backends.js';
import { scanLeaseContract } from './scan-lease.contract.js';

scanLeaseContract(inMemoryTables());
