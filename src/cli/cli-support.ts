/**
 * What the commands share: the streams and environment they are given, the exit codes, the error
 * meant for the person at the terminal, the policy as the options and the environment give it,
 * and who is at the keyboard.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Writable } from 'node:stream';
import type { Policy } from '../core/model.js';
import { DEFAULT_POLICY, parsePolicyJson } from '../core/policy.js';
import { messageOf } from '../core/error-message.js';

export interface CliIo {
  stdout: (text: string) => void;
  /** stdout as a stream, to which a report is written as fast as it drains; without it, reports go through `stdout`. */
  stdoutStream?: Writable;
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
      throw new UsageError(`the policy file ${configFile} cannot be read: ${describeFileError(error)}`);
    }
    return parsePolicyJson(text, configFile);
  }
  const inline = env.CONTACT_WATCH_POLICY;
  if (inline !== undefined && inline.trim() !== '') return parsePolicyJson(inline, 'CONTACT_WATCH_POLICY');
  return DEFAULT_POLICY;
}

/**
 * Fails before any work when the output file cannot be written: its folder is missing or not
 * writable, or the name is a folder. A report that took minutes to make is never lost at the end.
 */
export async function checkWritable(file: string): Promise<void> {
  const path = resolve(file);
  const folder = dirname(path);
  const refuse = (why: string): never => {
    throw new UsageError(`--output ${file} cannot be written: ${why}`);
  };
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) refuse('it is a folder');
  try {
    await access(existing ? path : folder, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') refuse(`the folder ${folder} does not exist`);
    if (code === 'ENOTDIR') refuse(`${folder} is not a folder`);
    refuse(describeFileError(error));
  }
}

/** A file system error in words ("no such file"), not as its code (ENOENT). */
export function describeFileError(error: unknown): string {
  switch ((error as NodeJS.ErrnoException | null)?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return messageOf(error);
  }
}

/** Who `exempt` and `fix` record as having acted: CONTACT_WATCH_USER, else the OS user. */
export function currentUser(env: NodeJS.ProcessEnv): string {
  try {
    return env.CONTACT_WATCH_USER?.trim() || userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** `check --wait`: whole seconds, at most an hour. */
export function parseWaitSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(seconds) || seconds > 3600) {
    throw new InvalidArgumentError('expected a whole number of seconds from 0 to 3600');
  }
  return seconds;
}
