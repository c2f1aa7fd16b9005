/**
 * Writes of the contact as the state store keeps them, against Azurite: the contract in
 * test/contract/state-remediation.contract.ts.
 */
import { azuriteTables } from '../../../contract/backends.js';
import { stateRemediationContract } from '../../../contract/state-remediation.contract.js';

stateRemediationContract(azuriteTables());
