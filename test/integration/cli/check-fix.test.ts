/**
 * `check` suggests the write that fixes a subscription: the `az rest` PUT of its own contact with
 * only the failing settings changed, run here through bash to see exactly what `az` would send;
 * and, with --format terraform, the same write as a Terraform file, read back with HCL's parser.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedTenant, startLocalAzure } from '../../azure-server/index.js';
import type { LocalAzure } from '../../azure-server/index.js';
import { runCliInProcess, runProcess } from '../../support/cli.js';
import { compliantContact2023, contactItem } from '../../support/fixtures.js';
import { parseHcl } from '../../support/hcl-parser.js';

const NO_ATTACK_PATHS = '61616161-6161-4161-8161-616161616161';
const OLD_SHAPE = '62626262-6262-4262-8262-626262626262';
const NOT_REGISTERED = '63636363-6363-4363-8363-636363636363';
const NO_CONTACT = '64646464-6464-4464-8464-646464646464';
const COMPLIANT = '65656565-6565-4565-8565-656565656565';

let azure: LocalAzure;
let dir: string;

beforeAll(async () => {
  const tenant = new SimulatedTenant();
  // Everything the default policy asks for but attack path notifications.
  const noAttackPaths = compliantContact2023('soc@fabrikam.io;Noc@eu.fabrikam.io');
  noAttackPaths.properties.phone = '+44 20 7946 0000';
  noAttackPaths.properties.notificationsSources = [{ sourceType: 'Alert', minimalSeverity: 'Low' }];
  tenant.addSubscription({ subscriptionId: NO_ATTACK_PATHS, displayName: 'Payments', contacts: [noAttackPaths] });
  // Named default, the contact a PUT replaces: a 2017 `default1` beside it would keep its
  // placeholder address, and no write of `default` could fix that (see fix.test.ts).
  const oldShape = {
    ...contactItem('2017-08-01-preview'),
    name: 'default',
    id: `/subscriptions/${OLD_SHAPE}/providers/Microsoft.Security/securityContacts/default`,
  };
  oldShape.properties.email = 'soc@fabrikam.io;john@contoso.com';
  tenant.addSubscription({ subscriptionId: OLD_SHAPE, displayName: 'Legacy', contacts: [oldShape], quirks: { bareArrayBody: true } });
  tenant.addSubscription({ subscriptionId: NOT_REGISTERED, displayName: 'Fresh', contacts: [], quirks: { providerNotRegistered: true } });
  tenant.addSubscription({ subscriptionId: NO_CONTACT, displayName: 'Sandbox', contacts: [] });
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Prod', contacts: [compliantContact2023()] });
  azure = await startLocalAzure({ tenant });
  dir = await mkdtemp(join(tmpdir(), 'contact-watch-check-fix-'));
  // A stand-in `az` that prints the arguments it was given as JSON.
  await writeFile(join(dir, 'az'), `#!${process.execPath}\nprocess.stdout.write(JSON.stringify(process.argv.slice(2)));\n`);
  await chmod(join(dir, 'az'), 0o755);
});

afterAll(async () => {
  await azure?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The one `az rest` line of the output, run by bash: the arguments `az` would get. */
async function runSuggestedCommand(stdout: string): Promise<string[]> {
  const commands = stdout.split('\n').filter((line) => line.startsWith('az rest '));
  expect(commands).toHaveLength(1);
  const run = await runProcess('bash', ['-c', commands[0]!], { PATH: `${dir}:${process.env.PATH ?? ''}` });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as string[];
}

function putUrl(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview`;
}

describe('check suggests the merged contact', () => {
  it('keeps the own addresses and phone of a subscription that only lacks attack path notifications', async () => {
    const run = await runCliInProcess(['check', NO_ATTACK_PATHS], azure.env());
    expect(run.code, run.stderr).toBe(1);
    const args = await runSuggestedCommand(run.stdout);
    expect(args.slice(0, 6)).toEqual(['rest', '--method', 'put', '--url', putUrl(NO_ATTACK_PATHS), '--body']);
    expect(JSON.parse(args[6]!)).toEqual({
      properties: {
        emails: 'soc@fabrikam.io;Noc@eu.fabrikam.io',
        phone: '+44 20 7946 0000',
        isEnabled: true,
        notificationsByRole: { state: 'On', roles: ['Owner'] },
        notificationsSources: [
          { sourceType: 'Alert', minimalSeverity: 'Low' },
          { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
        ],
      },
    });
    expect(run.stdout).not.toContain('secops@your-company.internal');
  });

  it('carries a 2017 contact, listed as a bare array, into the 2023 shape without its placeholder address', async () => {
    const run = await runCliInProcess(['check', OLD_SHAPE], azure.env());
    expect(run.code, run.stderr).toBe(1);
    const body = JSON.parse((await runSuggestedCommand(run.stdout))[6]!);
    expect(body).toEqual({
      properties: {
        emails: 'soc@fabrikam.io',
        phone: '(214)275-4038',
        isEnabled: true,
        notificationsByRole: { state: 'On', roles: ['Owner'] },
        notificationsSources: [
          { sourceType: 'Alert', minimalSeverity: 'High' },
          { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
        ],
      },
    });
  });

  it("creates a missing contact with the policy's remediation addresses, or says the example must be replaced", async () => {
    const policy = join(dir, 'policy.json');
    await writeFile(policy, JSON.stringify({ remediation: { emails: ['secops@fabrikam.io'] } }));
    const withPolicy = await runCliInProcess(['check', NO_CONTACT, '--config', policy], azure.env());
    expect(withPolicy.code, withPolicy.stderr).toBe(1);
    expect(JSON.parse((await runSuggestedCommand(withPolicy.stdout))[6]!).properties.emails).toBe('secops@fabrikam.io');
    expect(withPolicy.stdout).not.toContain('Replace ');

    const withoutPolicy = await runCliInProcess(['check', NO_CONTACT], azure.env());
    expect(withoutPolicy.stdout).toContain(
      "Replace secops@your-company.internal with your security team's shared mailbox before running it",
    );
    expect(JSON.parse((await runSuggestedCommand(withoutPolicy.stdout))[6]!).properties.emails).toBe('secops@your-company.internal');
  });

  it('refuses a policy whose remediation address is on a placeholder domain, naming it', async () => {
    const policy = join(dir, 'placeholder-policy.json');
    await writeFile(policy, JSON.stringify({ remediation: { emails: ['secops@contoso.com'] } }));
    const run = await runCliInProcess(['check', NO_CONTACT, '--config', policy], azure.env());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('remediation.emails[0]');
  });

  it('gives the reason instead of a command when the Microsoft.Security provider is not registered', async () => {
    const run = await runCliInProcess(['check', NOT_REGISTERED], azure.env());
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('Writing the contact cannot fix this: the Microsoft.Security resource provider is not registered');
    expect(run.stdout).not.toContain('az rest');
  });

  it('suggests nothing for a compliant subscription, and --format json stays one report element', async () => {
    const compliant = await runCliInProcess(['check', COMPLIANT], azure.env());
    expect(compliant.code, compliant.stderr).toBe(0);
    expect(compliant.stdout).not.toContain('az rest');

    const json = await runCliInProcess(['check', NO_ATTACK_PATHS, '--format', 'json'], azure.env());
    expect(json.code, json.stderr).toBe(1);
    const element = JSON.parse(json.stdout);
    expect(Object.keys(element)).toEqual(['subscriptionId', 'displayName', 'state', 'status', 'source', 'contact', 'findings']);
    expect(json.stdout).not.toContain('az rest');
  });
});

describe('check --format terraform writes the same write as a file Terraform reads', () => {
  interface TerraformFile {
    import?: { to: string; id: string }[];
    resource?: { azapi_resource: { security_contact: { type: string; name: string; parent_id: string; body: unknown }[] } };
  }

  async function terraformOf(args: string[]): Promise<{ code: number | null; text: string; parsed: TerraformFile }> {
    const run = await runCliInProcess(['check', ...args, '--format', 'terraform'], azure.env());
    return { code: run.code, text: run.stdout, parsed: (await parseHcl('security-contact.tf', run.stdout)) as TerraformFile };
  }

  it('gives the body of the az rest command, and takes over the contact the subscription has', async () => {
    const table = await runCliInProcess(['check', NO_ATTACK_PATHS], azure.env());
    expect(table.stdout).toContain(`contact-watch check ${NO_ATTACK_PATHS} --format terraform > security-contact.tf`);
    const body = JSON.parse((await runSuggestedCommand(table.stdout))[6]!);

    const { code, parsed } = await terraformOf([NO_ATTACK_PATHS]);
    expect(code).toBe(1);
    expect(parsed.import).toEqual([{ to: '${azapi_resource.security_contact}', id: putUrl(NO_ATTACK_PATHS) }]);
    expect(parsed.resource?.azapi_resource.security_contact).toEqual([
      {
        type: 'Microsoft.Security/securityContacts@2023-12-01-preview',
        name: 'default',
        parent_id: `/subscriptions/${NO_ATTACK_PATHS}`,
        body,
      },
    ]);
  });

  it('offers the import commented out for a 2017 contact, and none for a contact to create', async () => {
    const old = await terraformOf([OLD_SHAPE]);
    expect(old.parsed.import).toBeUndefined();
    expect(old.text).toContain('# import {');
    const created = await terraformOf([NO_CONTACT]);
    expect(created.code).toBe(1);
    expect(created.parsed.import).toBeUndefined();
    expect(created.text).not.toContain('import {');
    expect(created.text).toContain("# Replace secops@your-company.internal with your security team's shared mailbox first.");
  });

  it('says in a Terraform comment why there is nothing to write, with the exit code of the table', async () => {
    const notRegistered = await terraformOf([NOT_REGISTERED]);
    expect(notRegistered.code).toBe(1);
    expect(notRegistered.text).toMatch(
      /^# Writing the contact cannot fix this: the Microsoft\.Security resource provider is not registered[^\n]*\n$/,
    );
    expect(notRegistered.parsed).toEqual({});
    const compliant = await terraformOf([COMPLIANT]);
    expect(compliant.code).toBe(0);
    expect(compliant.text).toBe('# Nothing to write: the subscription is compliant.\n');
  });
});
