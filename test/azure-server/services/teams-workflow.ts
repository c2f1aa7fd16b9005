/**
 * A local Teams workflow: the HTTP trigger "When a Teams webhook request is received" of a Power
 * Automate flow that posts the Adaptive Card it receives to a channel. As the real trigger does, it
 * answers 202 Accepted to a request signed by the URL's SAS (`sp`, `sv`, `sig` in the query) and
 * 401 to one that is not; a body over 28 KB is 413, a body that is not the message envelope with
 * an Adaptive Card is 400 (the real flow would fail at its post step). Like Teams, it cannot tell a
 * repeated request from a new one: every request it takes is one more card in the channel
 * (`cards`). Faults are scripted through `faults` (src: post-receiver.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createPostReceiver, type PostReceiver } from './post-receiver.js';

/** Teams refuses a message over about 28 KB. */
export const TEAMS_MAX_MESSAGE_BYTES = 28 * 1024;
export const WORKFLOW_API_VERSION = '2016-06-01';

export interface PostedCard {
  at: string;
  /** The Adaptive Card (the envelope's first attachment's content). */
  card: { type: string; version?: string; body?: unknown[]; actions?: unknown[]; [key: string]: unknown };
  /** The whole request body as received. */
  raw: string;
}

export interface TeamsWorkflowReceiver extends PostReceiver {
  /** Every card posted to the channel, in order (a repeated request is one more). */
  readonly cards: PostedCard[];
  /** The workflow's URL on the local server at `baseUrl`, with its signature. */
  workflowUrl(baseUrl: string): string;
  /** The signature part of the URL (a secret, for leak checks). */
  readonly signature: string;
}

export function createTeamsWorkflowReceiver(options: { workflowId?: string; signature?: string } = {}): TeamsWorkflowReceiver {
  const workflowId = options.workflowId ?? randomUUID().replace(/-/g, '');
  const signature = options.signature ?? randomBytes(32).toString('base64url');
  const path = `/workflows/${workflowId}/triggers/manual/paths/invoke`;
  const cards: PostedCard[] = [];
  const receiver = createPostReceiver({
    name: 'teams-workflow',
    pathPrefix: path,
    forget: () => void (cards.length = 0),
    receive(req, body) {
      const query = req.url.searchParams;
      if (req.url.pathname !== path || query.get('api-version') !== WORKFLOW_API_VERSION) {
        return { outcome: 'refused', status: 404, code: 'WorkflowNotFound', message: 'The workflow was not found.' };
      }
      if (query.get('sp') !== '/triggers/manual/run' || query.get('sv') !== '1.0' || query.get('sig') !== signature) {
        return {
          outcome: 'refused',
          status: 401,
          code: 'DirectApiInvalidAuthorizationSignature',
          message: 'The provided callback URL signature is not valid.',
        };
      }
      if (Buffer.byteLength(body) > TEAMS_MAX_MESSAGE_BYTES) {
        return { outcome: 'refused', status: 413, code: 'RequestEntityTooLarge', message: 'The message is larger than 28 KB.' };
      }
      let envelope: { type?: unknown; attachments?: { contentType?: unknown; contentUrl?: unknown; content?: PostedCard['card'] }[] };
      try {
        envelope = JSON.parse(body);
      } catch {
        return { outcome: 'refused', status: 400, code: 'InvalidRequestContent', message: 'The request body is not JSON.' };
      }
      const attachment = Array.isArray(envelope.attachments) ? envelope.attachments[0] : undefined;
      if (
        envelope.type !== 'message' ||
        envelope.attachments?.length !== 1 ||
        attachment?.contentType !== 'application/vnd.microsoft.card.adaptive' ||
        attachment.content?.type !== 'AdaptiveCard'
      ) {
        return {
          outcome: 'refused',
          status: 400,
          code: 'InvalidRequestContent',
          message:
            'Expected {"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{AdaptiveCard}}]}.',
        };
      }
      cards.push({ at: new Date().toISOString(), card: attachment.content, raw: body });
      return { outcome: 'accepted', status: 202 };
    },
  });
  return Object.assign(receiver, {
    cards,
    signature,
    workflowUrl: (baseUrl: string) =>
      `${baseUrl.replace(/\/+$/, '')}${path}?api-version=${WORKFLOW_API_VERSION}&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${signature}`,
  });
}
