/**
 * Preload (`node --require fake-functions-core.cjs <entry>`) that stands in for the Functions host's
 * Node worker: the worker answers `require('@azure/functions-core')` with its core API, and
 * `@azure/functions` registers every function there (registerFunction(metadata, handler)) after
 * setting its programming model. This fake answers the same require, records what the app
 * registers, and — when FAKE_FUNCTIONS_CORE_OUTPUT names a file — writes it there as JSON when
 * the process exits:
 *   { programmingModel: { name, version } | null, functions: [{ name, bindings, retryOptions, hasHandler }] }
 * Plain CommonJS so that it needs no compiler and adds nothing measurable to a cold start.
 */
'use strict';
const Module = require('node:module');
const { writeFileSync } = require('node:fs');

const recorded = { programmingModel: null, functions: [] };
let programmingModel;

class Disposable {
  constructor(callOnDispose) {
    this.callOnDispose = callOnDispose;
  }
  dispose() {
    this.callOnDispose?.();
  }
}

const coreApi = {
  version: 'fake',
  Disposable,
  setProgrammingModel(model) {
    programmingModel = model;
    recorded.programmingModel = { name: model.name, version: model.version };
  },
  getProgrammingModel() {
    return programmingModel;
  },
  registerFunction(metadata, handler) {
    recorded.functions.push({ ...JSON.parse(JSON.stringify(metadata)), hasHandler: typeof handler === 'function' });
    return new Disposable();
  },
  registerHook() {
    return new Disposable();
  },
  log(level, category, message) {
    process.stderr.write(`[functions-core ${level}/${category}] ${message}\n`);
  },
};

// The worker's own seam: Module.prototype.require answers '@azure/functions-core'.
const originalRequire = Module.prototype.require;
Module.prototype.require = function require(id) {
  return id === '@azure/functions-core' ? coreApi : originalRequire.apply(this, arguments);
};

const output = process.env.FAKE_FUNCTIONS_CORE_OUTPUT;
if (output) process.on('exit', () => writeFileSync(output, JSON.stringify(recorded, null, 2)));
