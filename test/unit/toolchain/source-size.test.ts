/**
 * No source file does several jobs' worth of work: each file in src/ stays within 400 lines, so a
 * file that grows past it is split by job rather than left to grow.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', '..', 'src');
const MAX_LINES = 400;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && /\.(ts|js|css)$/.test(entry.name)).map((entry) => join(entry.parentPath, entry.name));
}

describe('source files', () => {
  it(`are at most ${MAX_LINES} lines each`, async () => {
    const files = await sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    const tooLong: string[] = [];
    for (const file of files) {
      const lines = (await readFile(file, 'utf8')).split('\n').length - 1;
      if (lines > MAX_LINES) tooLong.push(`${relative(SRC, file)}: ${lines} lines`);
    }
    expect(tooLong).toEqual([]);
  });
});
