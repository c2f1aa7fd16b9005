import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startLocalAzure, type LocalAzure, type LocalService } from './index.js';
import { defaultCredentialFor } from './sdk-clients.js';

const seen: string[] = [];
/** A minimal data-plane service: POST /echo:send with a bearer token for communication.azure.com. */
const echo: LocalService = {
  name: 'echo',
  handle(req, res, ctx) {
    seen.push(`${req.method} ${req.url.pathname}`);
    if (req.url.pathname !== '/echo:send') return false;
    if (!ctx.tokens.isValid(req.headers.authorization, 'https://communication.azure.com')) {
      sendJson(res, 401, { error: { code: 'Unauthorized', message: 'no token for communication.azure.com' } });
      return true;
    }
    sendJson(res, 202, { received: JSON.parse(req.body.toString('utf8')), server: ctx.url });
    return true;
  },
};

let azure: LocalAzure;
beforeAll(async () => {
  azure = await startLocalAzure({ services: [echo] });
});
afterAll(async () => {
  await azure?.close();
});

describe('services mounted on the same server', () => {
  it('get unrouted requests, with the body read and tokens they can check', async () => {
    const token = await defaultCredentialFor(azure).getToken('https://communication.azure.com//.default');
    const send = (authorization: string): Promise<Response> =>
      fetch(`${azure.url}/echo:send?api-version=2025-09-01`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ subject: 'hello' }),
      });
    const accepted = await send(`Bearer ${token.token}`);
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ received: { subject: 'hello' }, server: azure.url });
    // A token for ARM is not a token for the service.
    expect((await send(`Bearer ${azure.tokens.issue(azure.url)}`)).status).toBe(401);

    const logged = azure.requests.of('other').filter((entry) => entry.service === 'echo');
    expect(logged.map((entry) => entry.status)).toEqual([202, 401]);
  });

  it('never see ARM routes; what no one handles is an ARM 401/404', async () => {
    seen.length = 0;
    const token = azure.tokens.issue(azure.url);
    expect(
      (await fetch(`${azure.url}/subscriptions?api-version=2022-12-01`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    expect(seen).toEqual([]);
    expect((await fetch(`${azure.url}/nowhere`)).status).toBe(401);
    const notFound = await fetch(`${azure.url}/nowhere`, { headers: { authorization: `Bearer ${token}` } });
    expect(notFound.status).toBe(404);
    expect(((await notFound.json()) as any).error.code).toBe('NotFound');
    expect(seen).toEqual(['GET /nowhere', 'GET /nowhere']);
  });

  it('are subject to faults aimed at any request', async () => {
    azure.faults.add({ target: 'any', status: 503, retryAfterSeconds: 2 });
    const response = await fetch(`${azure.url}/echo:send`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
  });
});
