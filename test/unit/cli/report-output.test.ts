/**
 * Where a report goes (src/cli/report-output.ts): --output replaced whole or left as it was, and
 * stdout written as it drains.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeChunks, writeReport, writeReportFile } from '../../../src/cli/report-output.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cw-report-output-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function* lines(count: number, failAt?: number): Generator<string> {
  for (let i = 0; i < count; i++) {
    if (i === failAt) throw new Error('the report could not be rendered');
    yield `line ${i}\n`;
  }
}

const expected = (count: number) => Array.from({ length: count }, (_, i) => `line ${i}\n`).join('');

describe('--output FILE', () => {
  it('writes a new file, and leaves nothing else in its folder', async () => {
    const file = join(dir, 'report.txt');
    await writeReportFile(file, lines(5_000));
    expect(await readFile(file, 'utf8')).toBe(expected(5_000));
    expect(await readdir(dir)).toEqual(['report.txt']);
    await rm(file);
  });

  it('replaces an existing file whole, keeping its permissions', async () => {
    const file = join(dir, 'private.json');
    await writeFile(file, 'the previous report\n');
    await chmod(file, 0o600);
    await writeReportFile(file, lines(10));
    expect(await readFile(file, 'utf8')).toBe(expected(10));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await rm(file);
  });

  it('when the report fails half-way, leaves the file as it was and no partial file behind', async () => {
    const file = join(dir, 'kept.json');
    await writeFile(file, 'the previous report\n');
    await expect(writeReportFile(file, lines(100_000, 50_000))).rejects.toThrow('the report could not be rendered');
    expect(await readFile(file, 'utf8')).toBe('the previous report\n');
    expect(await readdir(dir)).toEqual(['kept.json']);
    // And no file at all where there was none.
    await expect(writeReportFile(join(dir, 'never.json'), lines(10, 5))).rejects.toThrow('the report could not be rendered');
    expect(await readdir(dir)).toEqual(['kept.json']);
    await rm(file);
  });

  /** Runs writeReportFile in a process of its own (a signal ends it) that sends itself SIGINT half-way; `before` runs first. */
  async function interruptedWrite(before = '') {
    const folder = await mkdtemp(join(dir, 'interrupted-'));
    const file = join(folder, 'report.json');
    await writeFile(file, 'the previous report\n');
    const source = fileURLToPath(new URL('../../../src/cli/report-output.ts', import.meta.url));
    const script = `
      ${before}
      const { writeReportFile } = await import(${JSON.stringify(source)});
      function* chunks() {
        for (let i = 0; i < 2000; i++) {
          if (i === 100) process.kill(process.pid, 'SIGINT');
          yield 'x'.repeat(16384) + '\\n';
        }
      }
      try {
        await writeReportFile(${JSON.stringify(file)}, chunks());
        console.log('written');
      } catch (error) {
        console.log(error.message);
      }
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    return { run, file, folder };
  }

  it.skipIf(process.platform === 'win32')(
    'on Ctrl-C half-way, removes the partial file and ends by the signal, leaving the file as it was',
    async () => {
      const { run, file, folder } = await interruptedWrite();
      expect({ signal: run.signal, stdout: run.stdout }).toEqual({ signal: 'SIGINT', stdout: '' });
      expect(await readFile(file, 'utf8')).toBe('the previous report\n');
      expect(await readdir(folder)).toEqual(['report.json']);
    },
  );

  it('on Ctrl-C in a program that handles it itself, removes the partial file and refuses the write as interrupted', async () => {
    const { run, file, folder } = await interruptedWrite("process.on('SIGINT', () => console.log('handled by the program'));");
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      'handled by the program',
      expect.stringMatching(/was interrupted \(SIGINT\); it is unchanged/),
    ]);
    expect(await readFile(file, 'utf8')).toBe('the previous report\n');
    expect(await readdir(folder)).toEqual(['report.json']);
  });

  it('follows a symbolic link: the file it points at is replaced, the link stays', async () => {
    const target = join(dir, 'target.txt');
    const link = join(dir, 'link.txt');
    await writeFile(target, 'old\n');
    await symlink(target, link);
    await writeReportFile(link, lines(3));
    expect(await readFile(target, 'utf8')).toBe(expected(3));
    expect(await readlink(link)).toBe(target);
    await rm(link);
    await rm(target);
  });

  it('writes a device in place (/dev/null stays what it is)', async () => {
    await writeReportFile('/dev/null', lines(1_000));
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
  });

  it('names the file and what went wrong when the folder is gone', async () => {
    await expect(writeReportFile(join(dir, 'missing', 'report.json'), lines(3))).rejects.toThrow(
      `--output ${join(dir, 'missing', 'report.json')} was not written: no such file`,
    );
  });
});

describe('stdout', () => {
  it('is written as fast as it drains: the report is read only a little ahead of what was written', async () => {
    let read = 0;
    let written = '';
    let furthestAhead = 0;
    function* counted(): Generator<string> {
      for (let i = 0; i < 2_000; i++) {
        read += 1;
        yield `line ${i}\n`;
      }
    }
    const slow = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.toString();
        furthestAhead = Math.max(furthestAhead, read - written.split('\n').length + 1);
        setImmediate(callback);
      },
    });
    await writeChunks(counted(), slow);
    expect(written).toBe(expected(2_000));
    expect(furthestAhead).toBeLessThan(40);
    // stdout stays open for what the command writes after the report.
    expect(slow.writableEnded).toBe(false);
  });

  it('without a stream (the program run in a test), goes through io.stdout chunk by chunk', async () => {
    const seen: string[] = [];
    await writeReport(['a', 'b'], undefined, { stdout: (text) => seen.push(text), stderr: () => undefined, env: {} });
    expect(seen).toEqual(['a', 'b']);
  });
});
