import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { azRestGetCommand, azRestPutCommand, securityContactRemediation } from '../../../src/core/rules/remediation.js';
import type { SecurityContactPutBody } from '../../../src/core/model.js';

const SUBSCRIPTION = '20ff7fc3-e762-44dd-bd96-b71116dcdc23';

function bodyWith(emails: string, phone?: string): SecurityContactPutBody {
  return {
    properties: {
      emails,
      ...(phone === undefined ? {} : { phone }),
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Owner'] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'High' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    },
  };
}

/** A stand-in `az` first on PATH that prints each argument it was given, NUL-terminated. */
const standIn = mkdtempSync(join(tmpdir(), 'contact-watch-az-'));
writeFileSync(join(standIn, 'az'), '#!/bin/sh\nfor argument in "$@"; do printf \'%s\\0\' "$argument"; done\n');
chmodSync(join(standIn, 'az'), 0o755);
afterAll(() => rmSync(standIn, { recursive: true, force: true }));

/** Runs the commands in a shell, one after another, and returns the arguments `az` got each time. */
function argumentsAzReceives(shell: 'bash' | 'dash', commands: readonly string[]): string[][] {
  const script = commands.map((command) => `${command}\nprintf '\\n'`).join('\n');
  const run = spawnSync(shell, ['-c', script], {
    cwd: standIn,
    env: { PATH: `${standIn}:${process.env.PATH ?? ''}`, HOME: standIn },
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stderr).toBe('');
  return run.stdout
    .split('\n')
    .slice(0, commands.length)
    .map((line) => line.split('\0').slice(0, -1));
}

describe('azRestGetCommand', () => {
  it('reads the contacts of one subscription, with the id in lower case, and refuses anything but a GUID', () => {
    expect(azRestGetCommand(SUBSCRIPTION.toUpperCase())).toBe(
      `az rest --method get --url "/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Security/securityContacts?api-version=2023-12-01-preview"`,
    );
    expect(() => azRestGetCommand(`${SUBSCRIPTION}" --debug "`)).toThrow(RangeError);
  });

  it("is the read the rules' remediation starts from, and their write is the same PUT", () => {
    const remediation = securityContactRemediation('owners', { subscriptionId: SUBSCRIPTION });
    expect(remediation.azCli.split('\n')).toEqual(
      expect.arrayContaining([
        azRestGetCommand(SUBSCRIPTION),
        azRestPutCommand(SUBSCRIPTION, remediation.restBody as SecurityContactPutBody),
      ]),
    );
  });
});

describe('azRestPutCommand', () => {
  it('writes the exact az rest PUT of the default contact, with the subscription id in lower case', () => {
    expect(azRestPutCommand(SUBSCRIPTION.toUpperCase(), bodyWith('soc@fabrikam.io', '(214)275-4038'))).toBe(
      `az rest --method put --url "/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview" ` +
        `--body '{"properties":{"emails":"soc@fabrikam.io","phone":"(214)275-4038","isEnabled":true,"notificationsByRole":{"state":"On","roles":["Owner"]},` +
        `"notificationsSources":[{"sourceType":"Alert","minimalSeverity":"High"},{"sourceType":"AttackPath","minimalRiskLevel":"High"}]}}'`,
    );
  });

  it('refuses a subscription id that is not a GUID', () => {
    expect(() => azRestPutCommand('"; rm -rf ~; "', bodyWith('soc@fabrikam.io'))).toThrow(RangeError);
    expect(() => azRestPutCommand(`${SUBSCRIPTION}$(id)`, bodyWith('soc@fabrikam.io'))).toThrow(/not a subscription id/);
  });

  it('holds only printable ASCII without a single quote, so nothing can end the quoting or hide in the text', () => {
    const command = azRestPutCommand(SUBSCRIPTION, bodyWith("o'brien@fabrikam.io;\u202eevil@x.io\r\n", 'caf\u00e9 \u{1f4de}'));
    expect(command).toMatch(/^[\x20-\x7e]+$/);
    expect(command.slice(command.indexOf("--body '") + 8, -1)).not.toContain("'");
  });

  it.each(['bash', 'dash'] as const)('passes %s the body and URL unchanged, whatever the addresses and phone hold', (shell) => {
    const hostile = [
      "o'brien@fabrikam.io",
      "'; touch pwned; echo '",
      '$(touch pwned)@fabrikam.io',
      '`touch pwned`@fabrikam.io',
      '${HOME}@fabrikam.io',
      'back\\slash@fabrikam.io\\',
      '"quoted"@fabrikam.io',
      'line\nbreak@fabrikam.io\r',
      '\u202e\u2066bidi@fabrikam.io\u2069',
      'nul\u0000byte',
      '\u{1f4e7}@fabrikam.io \ud800',
      '!event $? * ~ # & | ; < >',
    ];
    const bodies = hostile.map((text) => bodyWith(text, text));
    const received = argumentsAzReceives(
      shell,
      bodies.map((body) => azRestPutCommand(SUBSCRIPTION, body)),
    );
    bodies.forEach((body, index) => {
      const args = received[index]!;
      expect(args.slice(0, 5)).toEqual([
        'rest',
        '--method',
        'put',
        '--url',
        `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview`,
      ]);
      expect(args[5]).toBe('--body');
      expect(args).toHaveLength(7);
      expect(JSON.parse(args[6]!)).toEqual(body);
    });
  });

  it('passes bash any text in the body unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 10 })), {
          minLength: 1,
          maxLength: 40,
        }),
        (texts) => {
          const bodies = texts.map(([emails, phone]) => bodyWith(emails, phone));
          const received = argumentsAzReceives(
            'bash',
            bodies.map((body) => azRestPutCommand(SUBSCRIPTION, body)),
          );
          bodies.forEach((body, index) => expect(JSON.parse(received[index]![6]!)).toEqual(body));
        },
      ),
      { numRuns: 10 },
    );
  });
});
