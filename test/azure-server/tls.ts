/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost,
 * generated at start-up. Clients trust the server through Node's own NODE_EXTRA_CA_CERTS
 * (pointing at `ca.pem`); nothing is ever added to a system trust store.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nodeTls from 'node:tls';
import { generate } from 'selfsigned';

/** Set by test/global-setup.ts: a directory holding the files below, shared by every worker. */
export const TLS_DIR_VARIABLE = 'CONTACT_WATCH_TEST_TLS_DIR';

const CA_FILE = 'ca.pem';
const CERT_FILE = 'server.pem';
const KEY_FILE = 'server-key.pem';

export interface TestTls {
  dir: string;
  /** PEM file of the CA that signed the server certificate: the value for NODE_EXTRA_CA_CERTS. */
  caCertPath: string;
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

/** Generates a CA and a server certificate into `dir` (a new temporary directory if omitted). */
export async function generateTestTls(dir?: string): Promise<TestTls> {
  const target = dir ?? (await mkdtemp(join(tmpdir(), 'contact-watch-tls-')));
  await mkdir(target, { recursive: true });
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 7 * 24 * 3600_000);

  const ca = await generate([{ name: 'commonName', value: 'contact-watch local Azure test CA' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });

  const tls: TestTls = {
    dir: target,
    caCertPath: join(target, CA_FILE),
    caCertPem: ca.cert,
    serverCertPem: server.cert,
    serverKeyPem: server.private,
  };
  await writeFile(tls.caCertPath, tls.caCertPem, { mode: 0o644 });
  await writeFile(join(target, CERT_FILE), tls.serverCertPem, { mode: 0o644 });
  await writeFile(join(target, KEY_FILE), tls.serverKeyPem, { mode: 0o600 });
  return tls;
}

/** Reads a CA and server certificate that generateTestTls wrote earlier, or undefined when absent. */
export async function readTestTls(dir: string): Promise<TestTls | undefined> {
  const caCertPath = join(dir, CA_FILE);
  if (![caCertPath, join(dir, CERT_FILE), join(dir, KEY_FILE)].every((file) => existsSync(file))) return undefined;
  return {
    dir,
    caCertPath,
    caCertPem: await readFile(caCertPath, 'utf8'),
    serverCertPem: await readFile(join(dir, CERT_FILE), 'utf8'),
    serverKeyPem: await readFile(join(dir, KEY_FILE), 'utf8'),
  };
}

/**
 * The certificate the server should use: the one prepared by the global set-up when
 * CONTACT_WATCH_TEST_TLS_DIR names it, else a fresh one (`generated: true`, the caller removes it).
 */
export async function loadOrCreateTestTls(): Promise<{ tls: TestTls; generated: boolean }> {
  const shared = process.env[TLS_DIR_VARIABLE];
  if (shared) {
    const tls = await readTestTls(shared);
    if (tls) return { tls, generated: false };
  }
  return { tls: await generateTestTls(), generated: true };
}

/**
 * Adds a CA to this process's default trust store (Node 22.19+): for a CA generated on the spot,
 * which NODE_EXTRA_CA_CERTS (read once, at start-up) cannot name. A process that starts several
 * local servers must share one CA between them: two CAs of the same name make the second
 * server's certificate fail its signature check.
 */
export function trustInThisProcess(caPem: string): void {
  const tls = nodeTls as typeof nodeTls & {
    setDefaultCACertificates?: (certs: string[]) => void;
    getCACertificates?: (type: 'default') => string[];
  };
  if (!tls.setDefaultCACertificates || !tls.getCACertificates) return;
  const current = tls.getCACertificates('default');
  if (!current.includes(caPem)) tls.setDefaultCACertificates([...current, caPem]);
}
