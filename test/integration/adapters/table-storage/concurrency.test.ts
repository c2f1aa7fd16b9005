/**
 * Two writers, one subscription, against Azurite: the contract in
 * test/contract/state-concurrency.contract.ts.
 */
import { azuriteTables } from '../../../contract/backends.js';
import { stateConcurrencyContract } from '../../../contract/state-concurrency.contract.js';

stateConcurrencyContract(azuriteTables());
