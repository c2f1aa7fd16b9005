/**
 * Table Storage's rules as the adapters rely on them, against Azurite: the contract in
 * test/contract/tables.contract.ts, which the in-memory table service is held to as well.
 */
import { azuriteTables } from '../../../contract/backends.js';
import { tableServiceContract } from '../../../contract/tables.contract.js';

tableServiceContract(azuriteTables());
