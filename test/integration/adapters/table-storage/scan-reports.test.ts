/**
 * The stored scans behind GET /api/scans/{scanId} against Azurite: the contract in
 * test/contract/scan-reports.contract.ts.
 */
import { azuriteTables } from '../../../contract/backends.js';
import { scanReportsContract } from '../../../contract/scan-reports.contract.js';

scanReportsContract(azuriteTables());
