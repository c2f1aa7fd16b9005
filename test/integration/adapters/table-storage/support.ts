/** The state tests' helpers now live beside the contract suites that use them; kept here for the tests that import them from here. */
export * from '../../../contract/support.js';
