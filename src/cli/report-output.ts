/**
 * Where a report goes: stdout or `--output FILE`, written chunk by chunk as the stream takes them
 * (backpressure), so that a report of 50,000 subscriptions is never held whole.
 *
 * A file is written under a temporary name next to it and renamed over it once every byte is on
 * disk: if the run stops half-way (an error, Ctrl-C, a full disk), FILE is what it was before,
 * never a truncated report that looks complete, and the temporary file is removed (on Ctrl-C or
 * SIGTERM too, before the signal ends the process as it would have). A file replaced keeps its permissions; a symbolic
 * link is followed, so the file it points at is replaced and the link stays. Written in place
 * instead: a FILE that is not a regular file (/dev/null, /dev/stdout, a named pipe), and an
 * existing file in a folder where this user may not create one (it is left empty if the write
 * fails).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync, type Stats } from 'node:fs';
import { open, realpath, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describeFileError, UsageError, type CliIo } from './cli-support.js';

/**
 * How much a report file's stream holds before it asks for no more: enough that the chunks waiting
 * while one write is on disk go out as one `writev`, instead of one round trip to the file system
 * per 16 KiB chunk (Node's default), which left a 10,000-subscription report waiting on its writes.
 */
const FILE_WRITE_BUFFER_BYTES = 1 << 20;

/** The report to `--output` when given, else to stdout. */
export async function writeReport(chunks: Iterable<string>, output: string | undefined, io: CliIo): Promise<void> {
  if (output) await writeReportFile(output, chunks);
  else if (io.stdoutStream) await writeChunks(chunks, io.stdoutStream);
  else for (const chunk of chunks) io.stdout(chunk);
}

/** Writes the chunks to an open stream (stdout) as it drains, and waits until they are written; the stream stays open. */
export async function writeChunks(chunks: Iterable<string>, stream: Writable): Promise<void> {
  await pipeline(Readable.from(chunks), stream, { end: false });
  // The pipeline ends with the last chunk handed over; its callback comes once everything before it is written.
  await new Promise<void>((resolve, reject) => stream.write('', (error) => (error ? reject(error) : resolve())));
}

/** Writes the chunks to `file`, replacing it whole or, on any failure, leaving it as it was. */
export async function writeReportFile(file: string, chunks: Iterable<string>): Promise<void> {
  const target = await realpath(file).catch(() => resolve(file));
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isFile()) return writeInPlace(file, target, chunks, existing);

  const partial = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  const interruption = removeOnSignal(partial);
  try {
    let handle: FileHandle;
    try {
      // Never more open than the file it replaces; then exactly as open (a private report stays private).
      handle = await open(partial, 'wx', existing ? existing.mode & 0o7777 : 0o666);
    } catch (error) {
      if (existing && isPermissionError(error)) return await writeInPlace(file, target, chunks, existing);
      return refuse(file, error, 'was not written');
    }
    try {
      if (existing) await handle.chmod(existing.mode & 0o7777);
      // `flush`: on disk before the rename, so that a crash cannot leave FILE named but empty.
      const written = handle.createWriteStream({ flush: true, highWaterMark: FILE_WRITE_BUFFER_BYTES });
      await pipeline(Readable.from(chunks), written, { signal: interruption.signal });
      await rename(partial, target);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(partial, { force: true });
      const why = interruption.signal.aborted ? `was interrupted (${String(interruption.signal.reason)})` : 'was not written';
      refuse(file, error, existing ? `${why}; it is unchanged` : why);
    }
  } finally {
    interruption.stopListening();
  }
}

/**
 * Until `stopListening` is called, Ctrl-C (SIGINT) or SIGTERM removes `partial` and aborts `signal`.
 * When nothing else listens for the signal, it then ends the process as Node would have without a
 * listener: by the same signal, or on Windows (where a signal sent to itself ends a process with
 * exit code 1, which `--fail-on-noncompliant` gives a finding) with exit code 130.
 */
function removeOnSignal(partial: string): { signal: AbortSignal; stopListening: () => void } {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    stopListening();
    rmSync(partial, { force: true });
    controller.abort(signal);
    if (process.listenerCount(signal) > 0) return;
    if (process.platform === 'win32') process.exit(130);
    process.kill(process.pid, signal);
  };
  const stopListening = (): void => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  for (const signal of signals) process.once(signal, onSignal);
  return { signal: controller.signal, stopListening };
}

async function writeInPlace(file: string, target: string, chunks: Iterable<string>, existing: Stats): Promise<void> {
  try {
    await pipeline(Readable.from(chunks), createWriteStream(target, { highWaterMark: FILE_WRITE_BUFFER_BYTES }));
  } catch (error) {
    // What was written is cut off: an empty file, not a report that looks complete.
    const emptied =
      existing.isFile() &&
      (await truncate(target, 0).then(
        () => true,
        () => false,
      ));
    refuse(file, error, emptied ? 'was not written whole; it is left empty' : 'was not written whole');
  }
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

function refuse(file: string, error: unknown, outcome: string): never {
  // An error of the report itself, not of the file system, keeps its own message.
  if (!(error as NodeJS.ErrnoException | null)?.code) throw error;
  throw new UsageError(`--output ${file} ${outcome}: ${describeFileError(error)}`, { cause: error });
}
