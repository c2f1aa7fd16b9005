/**
 * A stand-in for the two Azure endpoints a vending pipeline talks to, on 127.0.0.1, so the
 * pipeline scripts in infra/scripts run for real (curl, jq, their exit codes) against the app's
 * real handlers:
 *
 * - the Functions host's HTTP front door: `GET|POST /api/<route>` dispatched to a handler with the
 *   real @azure/functions HttpRequest and InvocationContext, behind `authLevel: function` (the
 *   `x-functions-key` header or `?code=`; 401 otherwise, as the host answers);
 * - an Event Grid custom topic: `POST /api/events` with a bearer token (401 without it, as a topic
 *   with local auth disabled answers), Event Grid schema arrays only; accepted events are handed to
 *   the Event Grid trigger's handler, as the event subscription would deliver them.
 *
 * Not the Functions host: no bindings, no retries of failed deliveries. Each delivery's outcome is
 * recorded for the test to read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, HttpResponse, InvocationContext, type HttpHandler } from '@azure/functions';

export type EventHandler = (event: unknown, context: InvocationContext) => Promise<void>;

export interface HttpRoute {
  functionName: string;
  methods: readonly string[];
  /** As registered: `subscriptions/{subscriptionId}/compliance`. */
  route: string;
  handler: HttpHandler;
}

export interface FunctionsHttpHostOptions {
  routes: readonly HttpRoute[];
  /** The function key the HTTP routes accept. */
  functionKey: string;
  /** The Event Grid topic: the token publishers must present, and the handler deliveries go to. */
  topic?: { bearerToken: string; functionName: string; handler: EventHandler };
}

export interface EventDelivery {
  event: unknown;
  /** Undefined when the handler succeeded; the thrown error otherwise (Event Grid would retry). */
  error: unknown;
}

export interface FunctionsHttpHost {
  url: string;
  /** Requests seen, in order: method, path (without the query) and the status answered. */
  readonly requests: { method: string; path: string; status: number; authorization: string | undefined }[];
  readonly deliveries: EventDelivery[];
  /** Answer the next `count` requests with `status` instead of dispatching them. */
  failNext(count: number, status: number): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function startFunctionsHttpHost(options: FunctionsHttpHostOptions): Promise<FunctionsHttpHost> {
  const requests: FunctionsHttpHost['requests'] = [];
  const deliveries: EventDelivery[] = [];
  let failures: { remaining: number; status: number } = { remaining: 0, status: 0 };
  let invocations = 0;
  const routes = options.routes.map((route) => ({ ...route, pattern: routePattern(route.route) }));

  const answer = (response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): number => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(body);
    return status;
  };

  const handle = async (incoming: IncomingMessage, response: ServerResponse): Promise<number> => {
    const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(incoming);
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return answer(response, failures.status, JSON.stringify({ error: { code: 'Injected', message: `injected ${failures.status}` } }));
    }

    if (options.topic && url.pathname === '/api/events') {
      if (incoming.method !== 'POST') return answer(response, 405, '');
      if (incoming.headers.authorization !== `Bearer ${options.topic.bearerToken}`) {
        return answer(
          response,
          401,
          JSON.stringify({ error: { code: 'Unauthorized', message: 'The request authorization is missing or invalid.' } }),
        );
      }
      let events: unknown;
      try {
        events = JSON.parse(body);
      } catch {
        return answer(response, 400, JSON.stringify({ error: { code: 'BadRequest', message: 'The body is not JSON.' } }));
      }
      if (!Array.isArray(events))
        return answer(response, 400, JSON.stringify({ error: { code: 'BadRequest', message: 'Expected an array of events.' } }));
      for (const event of events) {
        invocations += 1;
        const context = new InvocationContext({ invocationId: `host-${invocations}`, functionName: options.topic.functionName });
        deliveries.push({
          event,
          error: await options.topic.handler(event, context).then(
            () => undefined,
            (error: unknown) => error ?? new Error('rejected'),
          ),
        });
      }
      return answer(response, 200, '');
    }

    const path = url.pathname.replace(/^\/api\//, '');
    const match = routes.map((route) => ({ route, params: route.pattern(path) })).find((candidate) => candidate.params !== undefined);
    if (!url.pathname.startsWith('/api/') || !match) return answer(response, 404, '');
    const method = incoming.method ?? 'GET';
    if (!match.route.methods.includes(method)) return answer(response, 405, '');
    const key = header(incoming, 'x-functions-key') ?? url.searchParams.get('code') ?? undefined;
    if (key !== options.functionKey) return answer(response, 401, '');

    invocations += 1;
    const context = new InvocationContext({ invocationId: `host-${invocations}`, functionName: match.route.functionName });
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers: Object.fromEntries(
        Object.entries(incoming.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]),
      ),
      query: Object.fromEntries(url.searchParams),
      params: match.params!,
      ...(body ? { body: { string: body } } : {}),
    });
    const result = await match.route.handler(request, context);
    if (result instanceof HttpResponse) {
      return answer(response, result.status, await result.text(), Object.fromEntries(result.headers));
    }
    const headers = Object.fromEntries(Object.entries((result.headers as Record<string, string> | undefined) ?? {}));
    const text = result.jsonBody !== undefined ? JSON.stringify(result.jsonBody) : typeof result.body === 'string' ? result.body : '';
    return answer(response, result.status ?? 200, text, headers);
  };

  const server: Server = createServer((incoming, response) => {
    const path = new URL(incoming.url ?? '/', 'http://127.0.0.1').pathname;
    handle(incoming, response).then(
      (status) => requests.push({ method: incoming.method ?? '', path, status, authorization: incoming.headers.authorization }),
      (error: unknown) => {
        requests.push({ method: incoming.method ?? '', path, status: 500, authorization: incoming.headers.authorization });
        if (!response.headersSent) answer(response, 500, JSON.stringify({ error: { code: 'HostError', message: String(error) } }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    deliveries,
    failNext(count, status) {
      failures = { remaining: count, status };
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** `subscriptions/{subscriptionId}/compliance` → a matcher returning the route parameters. */
function routePattern(route: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const source = route
    .split('/')
    .map((segment) => {
      const parameter = /^\{(\w+)\??\}$/.exec(segment);
      if (!parameter) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(parameter[1]!);
      return '([^/]+)';
    })
    .join('/');
  const regex = new RegExp(`^${source}$`, 'i');
  return (path) => {
    const match = regex.exec(path);
    if (!match) return undefined;
    return Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1]!)]));
  };
}

function header(incoming: IncomingMessage, name: string): string | undefined {
  const value = incoming.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body over 1 MiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
