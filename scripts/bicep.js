// Finds the Bicep CLI and prints its path on stdout (test/integration/infra/bicep-compile.test.ts
// compiles infra/ with it).
//
//   node scripts/bicep.js
//
// In order: `bicep` on PATH; the one `az bicep install` puts in ~/.azure/bin; the package
// Azure.Bicep.CommandLine.<platform> restored from NuGet with `dotnet restore` into .tools/ (which
// git ignores; a later run finds it there without dotnet). When none works it prints one line on
// stderr and exits 1. What dotnet prints goes to stderr, so stdout holds only the path.
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = '0.49.2';
const exe = process.platform === 'win32' ? 'bicep.exe' : 'bicep';
const TOOLS = join(repoRoot, '.tools');

const isExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function onPath() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, exe))) return join(dir, exe);
  }
  const azureCli = join(homedir(), '.azure', 'bin', exe);
  return isExecutable(azureCli) ? azureCli : undefined;
}

/** NuGet's runtime identifier of this machine, as the package name ends: linux-x64, osx-arm64, win-x64, … */
function runtimeId() {
  const os = { linux: 'linux', darwin: 'osx', win32: 'win' }[process.platform];
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!os || !arch) return undefined;
  // Alpine and other musl systems: the glibc build does not run there.
  const musl = os === 'linux' && !process.report?.getReport().header.glibcVersionRuntime;
  return `${os}${musl ? '-musl' : ''}-${arch}`;
}

/** Restores the package into .tools/nuget and returns the path of its executable; throws with the reason. */
function restore(rid) {
  const packageId = `Azure.Bicep.CommandLine.${rid}`;
  const path = join(TOOLS, 'nuget', packageId.toLowerCase(), VERSION, 'tools', exe);
  if (!existsSync(path)) {
    const sdk = spawnSync('dotnet', ['--version'], { encoding: 'utf8' });
    if (sdk.error || sdk.status !== 0) throw new Error('dotnet is not installed');
    const major = /^(\d+)\./.exec(sdk.stdout.trim())?.[1];
    if (!major) throw new Error(`dotnet --version said ${JSON.stringify(sdk.stdout.trim())}`);
    // A throwaway project whose one job is to download the package (PackageDownload: no reference,
    // nothing built). Its target framework is the installed SDK's own, which needs no download.
    const project = join(TOOLS, 'bicep', 'restore.csproj');
    mkdirSync(dirname(project), { recursive: true });
    writeFileSync(
      project,
      [
        '<Project Sdk="Microsoft.NET.Sdk">',
        `  <PropertyGroup><TargetFramework>net${major}.0</TargetFramework></PropertyGroup>`,
        `  <ItemGroup><PackageDownload Include="${packageId}" Version="[${VERSION}]" /></ItemGroup>`,
        '</Project>',
        '',
      ].join('\n'),
    );
    console.error(`scripts/bicep.js: restoring ${packageId} ${VERSION} from NuGet into .tools/nuget (about 115 MB)`);
    const restored = spawnSync('dotnet', ['restore', project, '--packages', join(TOOLS, 'nuget'), '--nologo'], {
      stdio: ['ignore', process.stderr, process.stderr],
    });
    if (restored.error || restored.status !== 0) throw new Error(`dotnet restore of ${packageId} ${VERSION} failed`);
    if (!existsSync(path)) throw new Error(`dotnet restored ${packageId} ${VERSION} but ${path} is missing`);
  }
  // NuGet extracts files without their execute bit.
  if (!isExecutable(path)) chmodSync(path, 0o755);
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) throw new Error(`${path} does not run: ${version.error?.message ?? version.stderr.trim()}`);
  return path;
}

function locate() {
  const found = onPath();
  if (found) return found;
  const rid = runtimeId();
  if (!rid) throw new Error(`no Bicep package for ${process.platform}-${process.arch}`);
  return restore(rid);
}

try {
  console.log(locate());
} catch (error) {
  console.error(
    `bicep not found (${error.message}): install it with \`az bicep install\` (~/.azure/bin/bicep) or put it on PATH, or install the .NET SDK so that scripts/bicep.js restores it from NuGet`,
  );
  process.exit(1);
}
