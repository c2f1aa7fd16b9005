/** The stored scans behind GET /api/scans/{scanId}, over the in-memory table service. */
import { inMemoryTables } from './backends.js';
import { scanReportsContract } from './scan-reports.contract.js';

scanReportsContract(inMemoryTables());
