/** The scan lease against Azurite: the contract in test/contract/scan-lease.contract.ts. */
import { azuriteTables } from '../../../contract/backends.js';
import { scanLeaseContract } from '../../../contract/scan-lease.contract.js';

scanLeaseContract(azuriteTables());
