/**
 * What a person meets on a fresh clone, each as one line saying what to do: no Azure sign-in,
 * Table Storage out of reach (Azurite not started), an --output or --config that cannot be used
 * (refused before any request), a `check` of an unknown subscription (its error said once),
 * `--version`, and `npm start` without Azure Functions Core Tools.
 */
import { createServer } from 'node:net';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import {
  AggregateAuthenticationError,
  AuthenticationError,
  CredentialUnavailableError,
  type AccessToken,
  type GetTokenOptions,
  type TokenCredential,
} from '@azure/identity';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { shareTokens } from '../../../src/adapters/credential.js';
import { describeCliFailure } from '../../../src/compose/cli.js';
import { SimulatedTenant, startLocalAzure, type LocalAzure } from '../../azure-server/index.js';
import { runCliInProcess, runContactWatch, runProcess } from '../../support/cli.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNKNOWN = '99999999-9999-4999-8999-999999999999';
/** Azurite's published development key: not a secret, but the message must not repeat it either. */
const DEVELOPMENT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

let azure: LocalAzure;
let dir: string;
/** Holds nothing: a PATH without `az`, `pwsh`, `azd` or `func`, and a HOME without an Azure CLI or VS Code profile. */
let empty: string;

beforeAll(async () => {
  azure = await startLocalAzure({ tenant: new SimulatedTenant() });
  dir = await mkdtemp(join(tmpdir(), 'contact-watch-first-run-'));
  empty = join(dir, 'empty');
  await mkdir(empty);
});

afterAll(async () => {
  await azure?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  azure.requests.clear();
});

function lines(text: string): string[] {
  return text.trimEnd() === '' ? [] : text.trimEnd().split('\n');
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('no Azure sign-in', () => {
  // DefaultAzureCredential finds nothing: no AZURE_* or IDENTITY_* variable (the child gets only
  // what is listed), no `az` on PATH, and a HOME with no profile in it.
  const nothing = () => ({ PATH: empty, HOME: empty });

  it.each([['scan'], ['check', UNKNOWN]])('%s says in one line how to sign in, and exits 2', async (...args) => {
    const run = await runContactWatch(args, nothing());
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/^contact-watch: no Azure sign-in was found: run `az login` \(then `az account show`/);
    expect(run.stderr).toContain('managed identity');
    expect(run.stderr).toContain('AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET');
    expect(run.stderr).not.toContain('ChainedTokenCredential');
  });

  it("shows the SDK's account of each method it tried with CONTACT_WATCH_DEBUG=1", async () => {
    const run = await runContactWatch(['scan'], { ...nothing(), CONTACT_WATCH_DEBUG: '1' });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)[0]).toMatch(/no Azure sign-in was found/);
    expect(run.stderr).toContain('CredentialUnavailableError');
  });
});

describe('a sign-in that failed', () => {
  it('is recognised by its type through the causes, and a refusal names its code and first line, never the secret', () => {
    const unavailable = new AggregateAuthenticationError(
      [
        new CredentialUnavailableError('EnvironmentCredential is unavailable.'),
        new CredentialUnavailableError('Azure CLI could not be found.'),
      ],
      'ChainedTokenCredential authentication failed.',
    );
    expect(describeCliFailure(new Error('Resource Graph could not be read', { cause: unavailable }), {})).toMatch(
      /^no Azure sign-in was found: run `az login`/,
    );
    const refused = new AuthenticationError(401, {
      error: 'invalid_client',
      error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0f0f\r\nCorrelation ID: 1e1e',
    });
    expect(describeCliFailure(refused, {})).toBe(
      "the Azure sign-in failed (invalid_client: AADSTS7000215: Invalid client secret provided.): check the service principal's " +
        'AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET and that this machine reaches the sign-in endpoint, or sign in again with `az login`',
    );
    const quotingASecret = new AuthenticationError(400, {
      error: 'invalid_request',
      error_description: 'bad client_assertion eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
    });
    expect(describeCliFailure(quotingASecret, {})).toMatch(/^the Azure sign-in failed \(invalid_request\):/);
    // Another error saying the same words is not taken for one.
    expect(describeCliFailure(new Error('ChainedTokenCredential authentication failed.'), {})).toBeUndefined();
  });
});

describe('shared tokens', () => {
  class CountingCredential implements TokenCredential {
    calls: Array<GetTokenOptions | undefined> = [];
    constructor(private readonly expiresInMs: number) {}
    async getToken(_scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
      this.calls.push(options);
      return { token: `token-${this.calls.length}`, expiresOnTimestamp: Date.now() + this.expiresInMs };
    }
  }

  it('asks the credential once per scope while the token is fresh, and always for a claims challenge', async () => {
    const inner = new CountingCredential(60 * 60_000);
    const shared = shareTokens(inner);
    expect((await shared.getToken('https://management.azure.com/.default'))?.token).toBe('token-1');
    expect((await shared.getToken(['https://management.azure.com/.default']))?.token).toBe('token-1');
    expect((await shared.getToken('https://storage.azure.com/.default'))?.token).toBe('token-2');
    expect((await shared.getToken('https://management.azure.com/.default', { claims: 'e30=' }))?.token).toBe('token-3');
    expect(inner.calls).toHaveLength(3);
  });

  it('asks again for a token about to expire', async () => {
    const inner = new CountingCredential(60_000);
    const shared = shareTokens(inner);
    await shared.getToken('scope/.default');
    await shared.getToken('scope/.default');
    expect(inner.calls).toHaveLength(2);
  });
});

describe('Table Storage out of reach', () => {
  it('exemptions names the endpoint and how to start Azurite on that port, without the key, in one line', async () => {
    const port = await closedPort();
    const run = await runCliInProcess(['exemptions'], {
      CONTACT_WATCH_STORAGE: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEVELOPMENT_KEY};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1`,
    });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      `contact-watch: Table Storage at http://127.0.0.1:${port}/devstoreaccount1 (CONTACT_WATCH_STORAGE) cannot be reached: connection refused; ` +
        `is Azurite running? Start it with \`npx azurite --silent --location .azurite --skipApiVersionCheck --disableTelemetry --tablePort ${port}\``,
    ]);
    expect(run.stderr).not.toContain('AccountKey');
  });

  it('scan --store says so after signing in, before reading any subscription', async () => {
    const port = await closedPort();
    const run = await runCliInProcess(['scan', '--store'], {
      ...azure.env(),
      AzureWebJobsStorage: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEVELOPMENT_KEY};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1`,
    });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/Table Storage at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1 \(AzureWebJobsStorage\) cannot be reached/);
    expect(azure.requests.count('resource-graph')).toBe(0);
  });

  it('UseDevelopmentStorage=true points at Azurite and its npm script; another account at its name and the network', () => {
    const refused = new RestError('connect ECONNREFUSED 127.0.0.1:10002', {
      code: 'ECONNREFUSED',
      request: createPipelineRequest({ url: 'http://127.0.0.1:10002/devstoreaccount1/Tables' }),
    });
    const wrapped = new Error('the scan could not be recorded', { cause: refused });
    expect(describeCliFailure(wrapped, { CONTACT_WATCH_STORAGE: 'UseDevelopmentStorage=true' })).toBe(
      'Table Storage at http://127.0.0.1:10002/devstoreaccount1 (CONTACT_WATCH_STORAGE) cannot be reached: connection refused; ' +
        'is Azurite running? Start it with `npx azurite --silent --location .azurite --skipApiVersionCheck --disableTelemetry` ' +
        '(in a clone of contact-watch: `npm run azurite`)',
    );

    const notFound = new RestError('getaddrinfo ENOTFOUND cwstate.table.core.windows.net', {
      code: 'ENOTFOUND',
      request: createPipelineRequest({ url: 'https://cwstate.table.core.windows.net/Tables' }),
    });
    const message = describeCliFailure(notFound, {
      CONTACT_WATCH_STORAGE:
        'DefaultEndpointsProtocol=https;AccountName=cwstate;AccountKey=c2VjcmV0LWtleQ==;EndpointSuffix=core.windows.net',
    });
    expect(message).toMatch(
      /^Table Storage at https:\/\/cwstate\.table\.core\.windows\.net \(CONTACT_WATCH_STORAGE\) cannot be reached: host not found;/,
    );
    expect(message).not.toContain('c2VjcmV0LWtleQ');
    // A request elsewhere (not to the storage endpoint) is not blamed on the storage.
    const elsewhere = new RestError('connect ECONNREFUSED', {
      code: 'ECONNREFUSED',
      request: createPipelineRequest({ url: 'https://127.0.0.1:9/' }),
    });
    expect(describeCliFailure(elsewhere, { CONTACT_WATCH_STORAGE: 'UseDevelopmentStorage=true' })).toBeUndefined();
  });
});

describe('files named on the command line are checked before any request', () => {
  it.each<[string, string[]]>([
    ['scan', []],
    ['fix', ['--dry-run']],
  ])('%s --output into a missing folder fails at once', async (command, extra) => {
    const output = join(dir, 'no-such-folder', 'report.json');
    const run = await runCliInProcess([command, ...extra, '--output', output], {
      ...azure.env(),
      CONTACT_WATCH_POLICY: JSON.stringify({ remediation: { emails: ['secops@fabrikam.io'] } }),
    });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      `contact-watch: --output ${output} cannot be written: the folder ${join(dir, 'no-such-folder')} does not exist`,
    ]);
    expect(azure.requests.all()).toHaveLength(0);
  });

  it('--output naming a folder fails at once', async () => {
    const run = await runCliInProcess(['scan', '--output', dir], azure.env());
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`contact-watch: --output ${dir} cannot be written: it is a folder\n`);
    expect(azure.requests.all()).toHaveLength(0);
  });

  it.each([['scan'], ['check', UNKNOWN]])('%s --config naming a missing file says so in words', async (...args) => {
    const missing = join(dir, 'policy.json');
    const run = await runCliInProcess([...args, '--config', missing], azure.env());
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`contact-watch: the policy file ${missing} cannot be read: no such file\n`);
    expect(azure.requests.all()).toHaveLength(0);
  });
});

describe('check of a subscription that does not exist', () => {
  it('shows its error once in the table, and every finding whole in JSON', async () => {
    const table = await runCliInProcess(['check', UNKNOWN], azure.env());
    expect(table.code).toBe(2);
    expect(table.stdout.match(/SubscriptionNotFound/g)).toHaveLength(1);
    expect(table.stdout.match(/\(as above\)/g)).toHaveLength(4);
    expect(table.stderr).toBe('');

    const json = await runCliInProcess(['check', UNKNOWN, '--format', 'json'], azure.env());
    const findings = JSON.parse(json.stdout).findings as Array<{ result: string; message: string }>;
    expect(findings).toHaveLength(5);
    expect(findings.every((finding) => finding.result === 'error' && /SubscriptionNotFound/.test(finding.message))).toBe(true);
  });
});

describe('--version', () => {
  it("prints the package's version and exits 0", async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const run = await runContactWatch(['--version'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
  });
});

describe('npm start without Azure Functions Core Tools', () => {
  it('says how to get Core Tools and exits 1, before building anything', async () => {
    const run = await runProcess(process.execPath, [join(REPO_ROOT, 'scripts', 'start.js')], { PATH: empty });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('`func` is not on PATH');
    expect(run.stderr).toContain('npm i -g azure-functions-core-tools@4 --unsafe-perm true');
    expect(run.stderr).toContain('https://learn.microsoft.com/azure/azure-functions/functions-run-local');
    expect(run.stdout).toBe('');
  });
});
