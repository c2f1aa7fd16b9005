/**
 * One managed-identity endpoint and one token store per process, shared by every local Azure
 * server the process starts.
 *
 * Why not one per server: @azure/msal-node keeps the managed-identity source in a *static*
 * (`ManagedIdentityClient.identitySource`, chosen from IDENTITY_ENDPOINT / IDENTITY_HEADER at the
 * first token request) and its token cache in another (`ManagedIdentityApplication.nodeStorage`).
 * After the first token, every credential in the process calls that same endpoint with that same
 * header, and may reuse a cached token. So within a process the endpoint, the header and the
 * tokens must outlive any single server: a second server started after the first was closed
 * still gets its tokens from here, and a cached token stays valid.
 *
 * An identity request is answered by the most recently started server that is still open (so
 * its fault script and request log apply); with none open, it is answered without either.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendJson } from './arm-errors.js';
import { answerIdentity, DEFAULT_IDENTITY_CLIENT_ID, IDENTITY_PATH } from './services/identity.js';
import { TokenStore } from './tokens.js';

export type IdentityDispatcher = (req: IncomingMessage, res: ServerResponse) => void;

export interface IdentityPlane {
  /** `http://127.0.0.1:<port>/msi/token`, as App Service's IDENTITY_ENDPOINT. */
  endpoint: string;
  /** The secret of IDENTITY_HEADER. */
  header: string;
  tokens: TokenStore;
  /** Routes identity requests to a server while it is open; returns the detach function. */
  attach(dispatcher: IdentityDispatcher): () => void;
}

let plane: Promise<IdentityPlane> | undefined;

/** `options` (a fixed port and header, for a long-running local server) apply to the first call only. */
export function getIdentityPlane(options: { port?: number; header?: string } = {}): Promise<IdentityPlane> {
  plane ??= start(options);
  return plane;
}

async function start(options: { port?: number; header?: string }): Promise<IdentityPlane> {
  const dispatchers: IdentityDispatcher[] = [];
  const server = createServer((req, res) => {
    const dispatcher = dispatchers.at(-1);
    if (dispatcher) {
      dispatcher(req, res);
      return;
    }
    const url = new URL(req.url ?? '/', created.endpoint);
    if (url.pathname.replace(/\/+$/, '').toLowerCase() !== IDENTITY_PATH) {
      sendJson(res, 404, { error: 'not_found', error_description: `No managed identity endpoint at ${url.pathname}.` });
      return;
    }
    req.resume();
    answerIdentity({ method: req.method ?? 'GET', url, headers: req.headers, body: Buffer.alloc(0) }, res, {
      header: created.header,
      tokens: created.tokens,
      clientId: DEFAULT_IDENTITY_CLIENT_ID,
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  // Lives as long as the process, without keeping it alive.
  server.unref();
  const port = (server.address() as AddressInfo).port;
  const created: IdentityPlane = {
    endpoint: `http://127.0.0.1:${port}${IDENTITY_PATH}`,
    header: options.header ?? randomBytes(24).toString('hex'),
    tokens: new TokenStore(),
    attach(dispatcher) {
      dispatchers.push(dispatcher);
      return () => {
        const index = dispatchers.lastIndexOf(dispatcher);
        if (index >= 0) dispatchers.splice(index, 1);
      };
    },
  };
  return created;
}
