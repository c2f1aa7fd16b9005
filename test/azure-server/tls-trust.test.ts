/**
 * Proves the TLS set-up of test/global-setup.ts: the worker inherited NODE_EXTRA_CA_CERTS (read
 * by Node at process start), and with it alone in-process fetch, the SDK pipelines and child
 * processes trust the local server's certificate.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getCACertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAzure, TLS_DIR_VARIABLE, type LocalAzure } from './index.js';
import { defaultCredentialFor, resourceGraphClientFor } from './sdk-clients.js';

let azure: LocalAzure;
// Captured before any server starts, so nothing but the inherited variable can explain it.
const caTrustedAtStart = (() => {
  const dir = process.env[TLS_DIR_VARIABLE];
  if (!dir) return false;
  const pem = readFileSync(join(dir, 'ca.pem'), 'utf8').trim();
  return getCACertificates('default').some((certificate) => certificate.trim() === pem);
})();

beforeAll(async () => {
  azure = await startLocalAzure();
});
afterAll(async () => {
  await azure?.close();
});

describe('TLS trust from the global set-up', () => {
  it('the worker inherited NODE_EXTRA_CA_CERTS and Node loaded the CA at start-up', () => {
    expect(process.env[TLS_DIR_VARIABLE]).toBeTruthy();
    const dir = process.env[TLS_DIR_VARIABLE]!;
    expect([join(dir, 'ca.pem'), join(dir, 'trust-bundle.pem')]).toContain(process.env.NODE_EXTRA_CA_CERTS);
    expect(readFileSync(process.env.NODE_EXTRA_CA_CERTS!, 'utf8')).toContain(readFileSync(join(dir, 'ca.pem'), 'utf8').trim());
    expect(caTrustedAtStart).toBe(true);
  });

  it('the server uses the shared certificate', () => {
    expect(azure.caCertPath).toBe(join(process.env[TLS_DIR_VARIABLE]!, 'ca.pem'));
    expect(azure.env()).toEqual({
      AZURE_RESOURCE_MANAGER_ENDPOINT: azure.url,
      IDENTITY_ENDPOINT: azure.identityEndpoint,
      IDENTITY_HEADER: azure.identityHeader,
      NODE_EXTRA_CA_CERTS: azure.caCertPath,
    });
  });

  it('in-process fetch trusts the server', async () => {
    const response = await fetch(`${azure.url}/subscriptions?api-version=2022-12-01`);
    expect(response.status).toBe(401); // reached the server over verified TLS
  });

  it('an SDK pipeline trusts the server', async () => {
    const client = resourceGraphClientFor(azure, defaultCredentialFor(azure));
    const result = await client.resources({
      query: "resourcecontainers | where type =~ 'microsoft.resources/subscriptions'",
    });
    expect(result.totalRecords).toBe(0);
  });

  it('a child process given env() trusts the server', async () => {
    const script = `fetch(process.env.AZURE_RESOURCE_MANAGER_ENDPOINT + '/subscriptions?api-version=2022-12-01')
      .then((r) => { console.log(r.status); }, (e) => { console.log('error ' + (e.cause?.code ?? e.message)); });`;
    const { NODE_EXTRA_CA_CERTS: _inherited, ...parentEnv } = process.env;
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], { env: { ...parentEnv, ...azure.env() } });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(stdout.trim()));
    });
    expect(output).toBe('401');
  });
});
