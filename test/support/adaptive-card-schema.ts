/**
 * The Teams message as schema/teams-adaptive-card-1.5.json describes it (the workflow's envelope and
 * the subset of Adaptive Card 1.5 contact-watch's cards use), and a check that holds a card to it.
 *
 *   expectValidAdaptiveCard(card);            // the card itself
 *   expectValidTeamsMessage(requestBody);     // the envelope a Teams workflow receives, and its card
 *
 * Optionally, Microsoft's own Adaptive Card 1.5 schema as well: when ADAPTIVE_CARD_SCHEMA names a copy
 * of it (adaptivecards.io/schemas/1.5.0/adaptive-card.json, or schemas/1.5.0/adaptive-card.json of a
 * clone of microsoft/AdaptiveCards), every card these functions see is held to that schema too, and
 * test/unit/alerts/adaptive-card-schema.test.ts checks that ours is a subset of it. The repository
 * does not carry that file. It is JSON Schema draft-06: Ajv is given that meta-schema and told the
 * schema's own annotations (`version`, `features`: which card version introduced a property;
 * `example`), and the draft-06 `id` becomes the `$id` Ajv 8 reads, so that it runs in strict mode and
 * a schema Ajv cannot read fails rather than passing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'vitest';
import { addFormats, schemaErrors } from './report-schema.js';

const require = createRequire(import.meta.url);

export const TEAMS_MESSAGE_SCHEMA = 'teams-adaptive-card-1.5.json';
export const ADAPTIVE_CARD_SCHEMA_REF = `${TEAMS_MESSAGE_SCHEMA}#/$defs/adaptiveCard`;

/** The copy of Microsoft's Adaptive Card 1.5 schema named by ADAPTIVE_CARD_SCHEMA, if any. */
export const OFFICIAL_SCHEMA_PATH = process.env.ADAPTIVE_CARD_SCHEMA?.trim() || undefined;

/** Why the cross-check against Microsoft's schema does not run, and how to make it run. */
export const OFFICIAL_SCHEMA_SKIPPED =
  'skipped: ADAPTIVE_CARD_SCHEMA is not set. Set it to a copy of https://adaptivecards.io/schemas/1.5.0/adaptive-card.json ' +
  '(or schemas/1.5.0/adaptive-card.json in a clone of microsoft/AdaptiveCards) to run it';

/** The Adaptive Card 1.5 schema as Microsoft publishes it (draft-06): `definitions` and the rest. */
export interface OfficialAdaptiveCardSchema {
  id: string;
  definitions: Record<string, Record<string, unknown>>;
}

let official: { schema: OfficialAdaptiveCardSchema; validate: ValidateFunction } | undefined;

/**
 * Microsoft's schema from OFFICIAL_SCHEMA_PATH, compiled once per process.
 * @throws when the variable is unset, or names a file that is not the Adaptive Card 1.5 schema.
 */
export function officialAdaptiveCardSchema(): { schema: OfficialAdaptiveCardSchema; validate: ValidateFunction } {
  if (official) return official;
  if (!OFFICIAL_SCHEMA_PATH) throw new Error(OFFICIAL_SCHEMA_SKIPPED);
  if (!existsSync(OFFICIAL_SCHEMA_PATH)) throw new Error(`ADAPTIVE_CARD_SCHEMA is ${OFFICIAL_SCHEMA_PATH}, which does not exist.`);
  const schema = JSON.parse(readFileSync(OFFICIAL_SCHEMA_PATH, 'utf8')) as OfficialAdaptiveCardSchema & Record<string, unknown>;
  // TextBlockStyle and Table came with 1.5; a copy of another version would check other cards.
  if (
    schema.id !== 'http://adaptivecards.io/schemas/adaptive-card.json' ||
    !schema.definitions?.TextBlockStyle ||
    !schema.definitions.Table
  ) {
    throw new Error(
      `ADAPTIVE_CARD_SCHEMA is ${OFFICIAL_SCHEMA_PATH}, which is not the Adaptive Card 1.5 schema (schemas/1.5.0/adaptive-card.json).`,
    );
  }
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
  ajv.addVocabulary(['version', 'features', 'example']);
  addFormats(ajv);
  // Draft-06 names a schema by `id`, which Ajv 8 knows only as `$id`.
  const { id, ...rest } = schema;
  official = { schema, validate: ajv.compile({ $id: String(id), ...rest }) };
  return official;
}

/** Microsoft's schema's complaints about a card (at most five), empty when it is valid. */
export function officialSchemaErrors(card: unknown): unknown[] {
  const { validate } = officialAdaptiveCardSchema();
  return validate(card) ? [] : (validate.errors ?? []).slice(0, 5);
}

/** Fails naming every way the card breaks schema/teams-adaptive-card-1.5.json (and Microsoft's schema, when ADAPTIVE_CARD_SCHEMA is set). */
export function expectValidAdaptiveCard(card: unknown): void {
  expect(schemaErrors(ADAPTIVE_CARD_SCHEMA_REF, card), `the card against schema/${ADAPTIVE_CARD_SCHEMA_REF}`).toEqual([]);
  if (OFFICIAL_SCHEMA_PATH) expect(officialSchemaErrors(card), `the card against ${OFFICIAL_SCHEMA_PATH}`).toEqual([]);
}

/** The request body a Teams workflow receives: the message envelope with one Adaptive Card, valid. Returns the card. */
export function expectValidTeamsMessage(body: string): Record<string, unknown> {
  const envelope = JSON.parse(body) as { attachments: { content: Record<string, unknown> }[] };
  expect(schemaErrors(TEAMS_MESSAGE_SCHEMA, envelope), `the message against schema/${TEAMS_MESSAGE_SCHEMA}`).toEqual([]);
  const card = envelope.attachments[0]!.content;
  if (OFFICIAL_SCHEMA_PATH) expect(officialSchemaErrors(card), `the card against ${OFFICIAL_SCHEMA_PATH}`).toEqual([]);
  return card;
}
