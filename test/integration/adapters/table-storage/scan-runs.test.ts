/**
 * The state store against Azurite: the contract in test/contract/state-runs.contract.ts (what a
 * run writes and does not, partial and failed runs, `gone`, exemptions, the history, pruning).
 */
import { azuriteTables } from '../../../contract/backends.js';
import { stateRunsContract } from '../../../contract/state-runs.contract.js';

stateRunsContract(azuriteTables());
