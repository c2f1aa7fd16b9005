/**
 * Builds a handler on its first invocation, from the process's app dependencies, so that loading
 * the entry point (a cold start) creates no client and opens no connection.
 */
import type { InvocationContext } from '@azure/functions';
import type { AppDependencies } from '../app/dependencies.js';
import { appDependencies } from './app-instance.js';

export function lazy<Trigger, Result>(
  create: (deps: AppDependencies) => (trigger: Trigger, context: InvocationContext) => Result,
): (trigger: Trigger, context: InvocationContext) => Result {
  let handler: ((trigger: Trigger, context: InvocationContext) => Result) | undefined;
  return (trigger, context) => (handler ??= create(appDependencies()))(trigger, context);
}
