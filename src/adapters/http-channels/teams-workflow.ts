/**
 * Sends alert cards to Microsoft Teams through a workflow (Power Automate) whose trigger is "When a
 * Teams webhook request is received", and whose action posts the card it receives to a channel or
 * chat. The URL (CONTACT_WATCH_TEAMS_WORKFLOW_URL) carries the trigger's SAS signature (`sig=`):
 * it is the only credential, so it is treated as a secret throughout (src/adapters/http-channels/json-post.ts).
 *
 * A workflow cannot tell a repeated request from a new one: the message's id is not sent, since
 * nothing there would read it. A card whose answer was lost (a dropped connection after the
 * workflow took it, a crash before the outcome was recorded) is posted again by the next run: the
 * residual risk of a second card, documented in docs/reference/alerts.md.
 */
import type { AlertTransport, OutgoingMessage, SendOutcome } from '../../alerts/ports.js';
import { JsonPoster, type JsonPostOptions } from './json-post.js';

export interface TeamsWorkflowTransportOptions extends JsonPostOptions {
  /** The workflow's HTTP trigger URL, with its `sig=` (a secret). */
  url: string;
}

export class TeamsWorkflowTransport implements AlertTransport {
  private readonly poster: JsonPoster;

  constructor(options: TeamsWorkflowTransportOptions) {
    this.poster = new JsonPoster(options.url, 'the Teams workflow', options);
  }

  send(message: OutgoingMessage, operationId: string): Promise<SendOutcome> {
    return this.poster.post(message.body, {}, operationId);
  }
}
