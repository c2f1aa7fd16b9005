/**
 * What the commands share: the streams and environment they are given, the exit codes, the error
 * meant for the person at the terminal, the policy as the options and the environment give it,
 * and who is at the keyboard.
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Policy } from '../core/model.js';
import { DEFAULT_POLICY, parsePolicyJson } from '../core/policy.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export const EXIT = { ok: 0, findings: 1, failure: 2 } as const;

/** An error whose message is meant for the person at the terminal, not a stack trace. */
export class UsageError extends Error {}

export async function loadPolicy(configFile: string | undefined, env: NodeJS.ProcessEnv): Promise<Policy> {
  if (configFile !== undefined) {
    let text: string;
    try {
      text = await readFile(configFile, 'utf8');
    } catch (error) {
      throw new UsageError(`the policy file ${configFile} could not be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    return parsePolicyJson(text, configFile);
  }
  const inline = env.CONTACT_WATCH_POLICY;
  if (inline !== undefined && inline.trim() !== '') return parsePolicyJson(inline, 'CONTACT_WATCH_POLICY');
  return DEFAULT_POLICY;
}

/** Who `exempt` and `fix` record as having acted: CONTACT_WATCH_USER, else the OS user. */
export function currentUser(env: NodeJS.ProcessEnv): string {
  try {
    return env.CONTACT_WATCH_USER?.trim() || userInfo().username;
  } catch {
    return 'unknown';
  }
}
