/**
 * schema/teams-adaptive-card-1.5.json, the Teams message contact-watch sends: every card composed
 * passes it, and cards that stray from it (an element type or property it does not have, a name
 * outside a list, another version, another envelope) fail it at the place that is wrong.
 *
 * With ADAPTIVE_CARD_SCHEMA naming a copy of Microsoft's Adaptive Card 1.5 schema
 * (https://adaptivecards.io/schemas/1.5.0/adaptive-card.json), the cards are held to that too, and
 * ours is checked to be a subset of it: its types and properties are ones 1.5 defines, its lists of
 * names are 1.5's, and a card with every property and every name it allows is valid by 1.5.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULE_IDS, type Finding } from '../../../src/core/model.js';
import { renderTeamsDigest, renderTeamsSingle } from '../../../src/alerts/teams/adaptive-card.js';
import {
  OFFICIAL_SCHEMA_PATH,
  OFFICIAL_SCHEMA_SKIPPED,
  TEAMS_MESSAGE_SCHEMA,
  expectValidTeamsMessage,
  officialAdaptiveCardSchema,
  officialSchemaErrors,
} from '../../support/adaptive-card-schema.js';
import { schemaErrors } from '../../support/report-schema.js';
import { alert, ctx } from './owed-alert-fixture.js';

// The cards and schema objects are walked freely; the schemas, not types, say what they hold.
type Json = Record<string, any>;

const defs = (JSON.parse(readFileSync(new URL('../../../schema/teams-adaptive-card-1.5.json', import.meta.url), 'utf8')) as Json)
  .$defs as Record<string, Json>;

const repair = { at: '2025-03-09T08:00:00.000Z', by: 'app after scan 1', changes: ['added Owner to the notified roles'] };

/** A card of every kind contact-watch composes, each as the request body a workflow receives. */
function composedMessages(): [string, string][] {
  const unreadable = alert(3, {
    status: 'error',
    findings: RULE_IDS.map((ruleId): Finding => ({ ruleId, result: 'error', message: '403 AuthorizationFailed' })),
  });
  const kinds = [
    alert(1),
    alert(2, { kind: 'reminder', repair: { ...repair, outcome: 'failed', reason: '403 AuthorizationFailed' } }),
    unreadable,
    alert(4, { kind: 'repaired', status: 'compliant', findings: [], repair: { ...repair, outcome: 'fixed' } }),
    alert(5, { kind: 'fixed', status: 'compliant', findings: [] }),
  ];
  const backlog = Array.from({ length: 60 }, (_, i) => alert(100 + i, { displayName: `Landing zone ${i} ${'x'.repeat(i * 20)}` }));
  return [
    ...kinds.map((owed): [string, string] => [`the single card (${owed.kind}, ${owed.status})`, renderTeamsSingle(owed, ctx).body]),
    ['a digest of every kind', renderTeamsDigest(kinds, ctx).body],
    ['a digest cut to fit, with the rest counted', renderTeamsDigest(backlog, ctx).body],
    [
      'a digest without a report page, as part 2 of 3',
      renderTeamsDigest(kinds, { ...ctx, reportUrl: undefined }, { index: 2, total: 3 }).body,
    ],
  ];
}

/** A digest card in its envelope, to plant mistakes in: [title, intro, Container, Container, footer], two buttons. */
function plantable(): Json {
  const message = JSON.parse(renderTeamsDigest([alert(1), alert(2)], ctx).body) as Json;
  expect(schemaErrors(TEAMS_MESSAGE_SCHEMA, message)).toEqual([]);
  return message;
}

const card = (message: Json): Json => message.attachments[0].content;
const CARD = '/attachments/0/content';

/** A card with every property the schema describes, each object under the name of the definition that describes it. */
function everyProperty(): { message: Json; objects: Record<string, Json> } {
  const textRun = {
    type: 'TextRun',
    text: 'Subscription "Payments 1"',
    color: 'Attention',
    fontType: 'Monospace',
    size: 'Medium',
    weight: 'Bolder',
    isSubtle: false,
    highlight: false,
    italic: false,
    strikethrough: false,
    underline: false,
  };
  const element = { id: 'title', isVisible: true, requires: { adaptiveCards: '1.5' }, separator: true, spacing: 'Medium', height: 'Auto' };
  const richTextBlock = { type: 'RichTextBlock', inlines: [textRun], horizontalAlignment: 'Left', ...element };
  const container = {
    type: 'Container',
    items: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'inside' }] }],
    style: 'Emphasis',
    verticalContentAlignment: 'Top',
    bleed: false,
    minHeight: '50px',
    ...element,
    id: 'row',
  };
  const openUrlAction = {
    type: 'Action.OpenUrl',
    title: 'Open the report',
    url: 'https://contact-watch.fabrikam.net/api/report',
    id: 'report',
    requires: {},
    style: 'Positive',
    mode: 'Primary',
    tooltip: 'The report page',
    isEnabled: true,
  };
  const adaptiveCard = {
    type: 'AdaptiveCard',
    version: '1.5',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    body: [richTextBlock, container],
    actions: [openUrlAction],
    lang: 'en',
    speak: 'Payments 1 has no valid security contact',
    minHeight: '200px',
    verticalContentAlignment: 'Center',
    rtl: false,
  };
  const cardAttachment = { contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: adaptiveCard };
  const message = { type: 'message', attachments: [cardAttachment] };
  return { message, objects: { adaptiveCard, richTextBlock, textRun, container, openUrlAction, cardAttachment } };
}

/** The definitions that are lists of names, each with the properties (of which object) that take one. */
function enumeratedProperties(objects: Record<string, Json>): { list: string; object: Json; property: string }[] {
  return Object.entries(objects).flatMap(([name, object]) =>
    Object.entries(defs[name]!.properties as Record<string, Json>)
      .map(([property, schema]) => ({ property, list: String(schema.$ref ?? '').replace('#/$defs/', '') }))
      .filter(({ list }) => Array.isArray(defs[list]?.enum))
      .map(({ property, list }) => ({ list, object, property })),
  );
}

describe('schema/teams-adaptive-card-1.5.json', () => {
  it.each(composedMessages())('takes %s', (_name, body) => {
    const composed = expectValidTeamsMessage(body);
    expect(composed.version).toBe('1.5');
  });

  it('takes a card with every property it describes, and every name of each list', () => {
    const { message, objects } = everyProperty();
    for (const [name, object] of Object.entries(objects))
      expect(Object.keys(object).sort(), name).toEqual(Object.keys(defs[name]!.properties).sort());
    expect(schemaErrors(TEAMS_MESSAGE_SCHEMA, message)).toEqual([]);
    const enumerated = enumeratedProperties(objects);
    expect(new Set(enumerated.map(({ list }) => list)).size).toBe(
      Object.values(defs).filter((schema) => Array.isArray(schema.enum)).length,
    );
    for (const { list, object, property } of enumerated) {
      const before = object[property] as unknown;
      for (const value of defs[list]!.enum as string[]) {
        object[property] = value;
        expect(schemaErrors(TEAMS_MESSAGE_SCHEMA, message), `${property}: ${value}`).toEqual([]);
      }
      object[property] = before;
    }
  });

  const planted: [string, (message: Json) => void, string, string][] = [
    [
      'an element type Adaptive Cards do not have',
      (m) => card(m).body.push({ type: 'Markdown', text: 'x' }),
      `${CARD}/body/5/type`,
      'must be equal to one of the allowed values',
    ],
    [
      'a TextBlock, which reads Markdown',
      (m) => card(m).body.push({ type: 'TextBlock', text: '[x](https://evil.example)' }),
      `${CARD}/body/5/type`,
      'must be equal to one of the allowed values',
    ],
    [
      'a FactSet in a Container',
      (m) => card(m).body[2].items.push({ type: 'FactSet', facts: [] }),
      `${CARD}/body/2/items/2/type`,
      'allowed values',
    ],
    ['an element without a type', (m) => delete card(m).body[0].type, `${CARD}/body/0`, "must have required property 'type'"],
    ['a TextRun given as a string', (m) => (card(m).body[1].inlines = ['plain']), `${CARD}/body/1/inlines/0`, 'must be object'],
    [
      'a misspelt property of a TextRun',
      (m) => (card(m).body[0].inlines[0].wieght = 'Bolder'),
      `${CARD}/body/0/inlines/0`,
      '"additionalProperty":"wieght"',
    ],
    ['a misspelt property of the card', (m) => (card(m).action = card(m).actions), CARD, '"additionalProperty":"action"'],
    ['a misspelt property of a Container', (m) => (card(m).body[2].seperator = true), `${CARD}/body/2`, '"additionalProperty":"seperator"'],
    [
      'a misspelt property of a button',
      (m) => (card(m).actions[0].uri = 'https://x.example'),
      `${CARD}/actions/0`,
      '"additionalProperty":"uri"',
    ],
    ['fallbackText, which may hold Markdown', (m) => (card(m).fallbackText = '**x**'), CARD, '"additionalProperty":"fallbackText"'],
    [
      'a TextRun that is a link (selectAction)',
      (m) => (card(m).body[0].inlines[0].selectAction = { type: 'Action.OpenUrl', url: 'https://evil.example' }),
      `${CARD}/body/0/inlines/0`,
      '"additionalProperty":"selectAction"',
    ],
    [
      'a colour 1.5 does not have',
      (m) => (card(m).body[2].items[1].inlines[0].color = 'Red'),
      `${CARD}/body/2/items/1/inlines/0/color`,
      'allowed values',
    ],
    [
      'a weight 1.5 does not have',
      (m) => (card(m).body[0].inlines[0].weight = 'Bold'),
      `${CARD}/body/0/inlines/0/weight`,
      'allowed values',
    ],
    ['a size 1.5 does not have', (m) => (card(m).body[0].inlines[0].size = 'Huge'), `${CARD}/body/0/inlines/0/size`, 'allowed values'],
    ['a spacing 1.5 does not have', (m) => (card(m).body[1].spacing = 'wide'), `${CARD}/body/1/spacing`, 'allowed values'],
    ['a Container style 1.5 does not have', (m) => (card(m).body[2].style = 'danger'), `${CARD}/body/2/style`, 'allowed values'],
    ['a separator that is not a boolean', (m) => (card(m).body[2].separator = 'true'), `${CARD}/body/2/separator`, 'must be boolean'],
    ['version 1.6', (m) => (card(m).version = '1.6'), `${CARD}/version`, 'must be equal to constant'],
    ['version 1.4', (m) => (card(m).version = '1.4'), `${CARD}/version`, 'must be equal to constant'],
    ['the version as a number', (m) => (card(m).version = 1.5), `${CARD}/version`, 'must be equal to constant'],
    ['no version', (m) => delete card(m).version, CARD, "must have required property 'version'"],
    ['another card type', (m) => (card(m).type = 'HeroCard'), `${CARD}/type`, 'must be equal to constant'],
    ['a button that submits', (m) => (card(m).actions[0].type = 'Action.Submit'), `${CARD}/actions/0/type`, 'allowed values'],
    ['a button without its URL', (m) => delete card(m).actions[0].url, `${CARD}/actions/0`, "must have required property 'url'"],
    [
      'a button to a javascript: URL',
      (m) => (card(m).actions[0].url = 'javascript:alert(1)'),
      `${CARD}/actions/0/url`,
      'must match pattern',
    ],
    ['a message of another type', (m) => (m.type = 'messages'), '/type', 'must be equal to constant'],
    ['two cards in one message', (m) => m.attachments.push(m.attachments[0]), '/attachments', 'must NOT have more than 1 items'],
    ['no card', (m) => (m.attachments = []), '/attachments', 'must NOT have fewer than 1 items'],
    [
      'a card of another content type',
      (m) => (m.attachments[0].contentType = 'application/vnd.microsoft.card.hero'),
      '/attachments/0/contentType',
      'must be equal to constant',
    ],
    ['a card by URL', (m) => (m.attachments[0].contentUrl = 'https://x.example/card.json'), '/attachments/0/contentUrl', 'must be null'],
  ];

  it.each(planted)('refuses %s, where it is', (_name, plant, path, complaint) => {
    const message = plantable();
    plant(message);
    const errors = schemaErrors(TEAMS_MESSAGE_SCHEMA, message);
    expect(
      errors.filter((line) => line.startsWith(`${path} `) && line.includes(complaint)),
      errors.join('\n'),
    ).not.toEqual([]);
  });
});

describe.skipIf(!OFFICIAL_SCHEMA_PATH)(
  `against Microsoft's Adaptive Card 1.5 schema${OFFICIAL_SCHEMA_PATH ? ` (${OFFICIAL_SCHEMA_PATH})` : ` (${OFFICIAL_SCHEMA_SKIPPED})`}`,
  () => {
    const officialDefinition = (name: string): Json => officialAdaptiveCardSchema().schema.definitions[name]!;

    it.each(composedMessages())('%s is valid by it', (_name, body) => {
      expect(officialSchemaErrors((JSON.parse(body) as Json).attachments[0].content)).toEqual([]);
    });

    it("describes only types and properties 1.5 defines, and 1.5's lists of names", () => {
      const counterparts: Record<string, Json> = {
        adaptiveCard: officialDefinition('AdaptiveCard'),
        richTextBlock: officialDefinition('RichTextBlock'),
        // A TextRun is a string or an object; the object is the second of the two.
        textRun: officialDefinition('TextRun').anyOf[1] as Json,
        container: officialDefinition('Container'),
        openUrlAction: officialDefinition('Action.OpenUrl'),
      };
      for (const [name, counterpart] of Object.entries(counterparts)) {
        expect(Object.keys(counterpart.properties as Json), name).toEqual(expect.arrayContaining(Object.keys(defs[name]!.properties)));
        expect(counterpart.additionalProperties, name).toBe(false);
      }
      const lists: Record<string, string> = {
        spacing: 'Spacing',
        height: 'BlockElementHeight',
        horizontalAlignment: 'HorizontalAlignment',
        verticalContentAlignment: 'VerticalContentAlignment',
        containerStyle: 'ContainerStyle',
        color: 'Colors',
        fontType: 'FontType',
        fontSize: 'FontSize',
        fontWeight: 'FontWeight',
        actionStyle: 'ActionStyle',
        actionMode: 'ActionMode',
      };
      expect(Object.keys(lists).sort()).toEqual(
        Object.keys(defs)
          .filter((name) => Array.isArray(defs[name]!.enum))
          .sort(),
      );
      for (const [ours, theirs] of Object.entries(lists)) {
        const names = (officialDefinition(theirs).anyOf as Json[])[0]!.enum as string[];
        const capitalised = names.map((name) => name[0]!.toUpperCase() + name.slice(1));
        expect(defs[ours]!.enum, ours).toEqual([...names, ...capitalised]);
      }
    });

    it('takes the card with every property and every name ours takes', () => {
      const { message, objects } = everyProperty();
      const content = (message.attachments as Json[])[0]!.content as Json;
      expect(officialSchemaErrors(content)).toEqual([]);
      for (const { list, object, property } of enumeratedProperties(objects)) {
        const before = object[property] as unknown;
        for (const value of defs[list]!.enum as string[]) {
          object[property] = value;
          expect(officialSchemaErrors(content), `${property}: ${value}`).toEqual([]);
        }
        object[property] = before;
      }
    });
  },
);
