import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { generateTenant, SimulatedTenant, startLocalAzure, type GeneratedProfile } from './index.js';

const WEAK: GeneratedProfile[] = ['placeholder-email', 'alerts-off', 'no-owner', 'shape-2017', 'shape-2020'];

describe('generateTenant', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const ids = (seed: number): string[] =>
      generateTenant({ count: 50, seed })
        .listSubscriptions()
        .map((s) => `${s.subscriptionId}:${s.profile}`);
    expect(ids(4)).toEqual(ids(4));
    expect(ids(4)).not.toEqual(ids(5));
    expect(generateTenant({ count: 3, seed: 4 }).tenantId).toBe(generateTenant({ count: 3, seed: 4 }).tenantId);
    for (const id of ids(4)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}:/);
  });

  it('follows the fractions asked for and says what a correct scan concludes', () => {
    const tenant = generateTenant({ count: 4000, seed: 11, withoutContactFraction: 0.2, weakContactFraction: 0.3, inactiveFraction: 0.05 });
    const summary = tenant.generated!;
    const all = tenant.listSubscriptions();
    const share = (predicate: (s: (typeof all)[number]) => boolean): number => all.filter(predicate).length / all.length;
    expect(share((s) => s.profile === 'no-contact')).toBeCloseTo(0.2, 1);
    expect(share((s) => WEAK.includes(s.profile!))).toBeCloseTo(0.3, 1);
    expect(share((s) => s.state !== 'Enabled')).toBeCloseTo(0.05, 1);
    for (const profile of WEAK) expect(summary.byProfile[profile]).toBeGreaterThan(100);

    expect(all.filter((s) => s.profile === 'no-contact').every((s) => s.contacts.length === 0)).toBe(true);
    expect(all.filter((s) => s.profile === 'compliant').every((s) => s.contacts.length === 1)).toBe(true);
    const legacy = all.find((s) => s.profile === 'shape-2017')!.contacts[0] as any;
    expect(legacy.name).toBe('default1');
    expect(Object.keys(legacy.properties).sort()).toEqual(['alertNotifications', 'alertsToAdmins', 'email', 'phone']);
    const placeholder = all.find((s) => s.profile === 'placeholder-email')!.contacts[0] as any;
    expect(placeholder.properties.emails).toMatch(/@(contoso\.com|example\.com)$/);

    const { expected } = summary;
    expect(expected.compliant + expected.noncompliant + expected.error + expected.skipped).toBe(4000);
    expect(expected.skipped).toBe(all.filter((s) => s.state !== 'Enabled').length);
    expect(expected.compliant).toBe(all.filter((s) => s.state === 'Enabled' && s.profile === 'compliant').length);
  });

  it('indexes all, none, or leaves a fraction doubtful (missing or stale and weaker)', () => {
    const all = generateTenant({ count: 300, seed: 2 });
    expect(all.listSubscriptions().every((s) => s.indexedContacts === s.contacts)).toBe(true);
    const none = generateTenant({ count: 300, seed: 2, indexed: 'none' });
    expect(none.listSubscriptions().every((s) => s.indexedContacts.length === 0)).toBe(true);

    const doubtful = generateTenant({ count: 2000, seed: 2, indexed: { doubtfulFraction: 0.3 } });
    const { byIndexing } = doubtful.generated!;
    expect((byIndexing['not-indexed'] + byIndexing.stale) / 2000).toBeCloseTo(0.3, 1);
    const stale = doubtful.listSubscriptions().filter((s) => s.indexing === 'stale');
    expect(stale.length).toBeGreaterThan(100);
    for (const subscription of stale) {
      expect(subscription.indexedContacts).not.toEqual(subscription.contacts);
      expect((subscription.indexedContacts[0] as any).properties.alertNotifications.state).toBe('Off');
    }
    const missing = doubtful.listSubscriptions().filter((s) => s.indexing === 'not-indexed');
    expect(missing.every((s) => s.indexedContacts.length === 0 && s.contacts.length > 0)).toBe(true);
  });

  it('builds a management-group tree and quirky subscriptions', () => {
    const tenant = generateTenant({
      count: 500,
      seed: 9,
      managementGroups: 21,
      quirkFractions: { forbidden: 0.05, notFound: 0.05, providerNotRegistered: 0.05, bareArrayBody: 0.05 },
    });
    const deep = tenant.listSubscriptions().find((s) => s.managementGroupIds[0] === 'mg-020')!;
    expect(tenant.managementGroupChain(deep).map((g) => g.name)).toEqual(['mg-020', 'mg-004', 'mg-000', tenant.tenantId]);
    const quirky = tenant.listSubscriptions();
    expect(quirky.filter((s) => s.quirks.forbidden).every((s) => s.profile === 'forbidden' && s.indexedContacts.length === 0)).toBe(true);
    expect(quirky.filter((s) => s.quirks.providerNotRegistered).length).toBeGreaterThan(5);
    expect(quirky.filter((s) => s.quirks.bareArrayBody).length).toBeGreaterThan(5);
    expect(tenant.generated!.expected.error).toBe(
      quirky.filter((s) => s.state === 'Enabled' && (s.quirks.forbidden || s.quirks.notFound)).length,
    );
  });

  it('keeps 50,000 subscriptions well under 100 MB, and the server answers them', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const tenant = generateTenant({ count: 50_000, seed: 1, managementGroups: 40, indexed: { doubtfulFraction: 0.1 } });
    gc();
    const used = process.memoryUsage().heapUsed - before;
    expect(tenant.size).toBe(50_000);
    expect(used).toBeLessThan(60 * 1024 * 1024);

    const azure = await startLocalAzure({ tenant, logRequests: false });
    try {
      const token = azure.tokens.issue(azure.url);
      const query = async (body: unknown): Promise<Response> =>
        fetch(`${azure.url}/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const tenantScope = await query({
        query: "resourcecontainers | where type =~ 'microsoft.resources/subscriptions'",
        options: { $top: 1000 },
      });
      expect(tenantScope.headers.get('x-ms-tenant-subscription-limit-hit')).toBe('true');
      const page = (await tenantScope.json()) as { totalRecords: number; count: number; $skipToken?: string };
      expect([page.totalRecords, page.count]).toEqual([10_000, 1000]);

      const batch = tenant
        .listSubscriptions()
        .slice(40_000, 41_000)
        .map((s) => s.subscriptionId);
      const contacts = (await (
        await query({
          query: "securityresources | where type =~ 'microsoft.security/securitycontacts'",
          subscriptions: batch,
          options: { $top: 1000 },
        })
      ).json()) as { count: number };
      expect(contacts.count).toBe(
        tenant
          .listSubscriptions()
          .slice(40_000, 41_000)
          .reduce((sum, s) => sum + s.indexedContacts.length, 0),
      );
      expect(azure.requests.count('resource-graph')).toBe(2);
      expect(azure.requests.all()).toEqual([]); // logRequests: false keeps counters only
    } finally {
      await azure.close();
    }
  });
});

describe('SimulatedTenant', () => {
  it('keeps the API and the Resource Graph index apart', () => {
    const tenant = new SimulatedTenant({ tenantId: 'AAAAAAAA-0000-4000-8000-000000000000' });
    expect(tenant.tenantId).toBe('aaaaaaaa-0000-4000-8000-000000000000');
    const sub = tenant.addSubscription({ subscriptionId: 'BBBBBBBB-0000-4000-8000-000000000000', contacts: [{ name: 'default' }] });
    expect(sub.subscriptionId).toBe('bbbbbbbb-0000-4000-8000-000000000000');
    expect(sub.indexedContacts).toEqual([{ name: 'default' }]);
    expect(() => tenant.addSubscription({ subscriptionId: sub.subscriptionId })).toThrow(/already exists/);

    tenant.setContacts(sub.subscriptionId, [{ name: 'default', properties: { emails: 'new@fabrikam.com' } }], { indexed: false });
    expect(tenant.getSubscription(sub.subscriptionId)!.indexedContacts).toEqual([{ name: 'default' }]);
    tenant.deleteContacts(sub.subscriptionId);
    expect(tenant.getSubscription(sub.subscriptionId)!.indexedContacts).toEqual([]);
    tenant.setIndexedContacts(sub.subscriptionId, [{ name: 'stale' }]);
    expect(tenant.getSubscription(sub.subscriptionId)!.contacts).toEqual([]);

    tenant.setQuirks(sub.subscriptionId, { forbidden: true, contactsPageSize: 2 });
    tenant.setQuirks(sub.subscriptionId, { forbidden: undefined });
    expect(tenant.getSubscription(sub.subscriptionId)!.quirks).toEqual({ contactsPageSize: 2 });
    expect(() => tenant.setContacts('cccccccc-0000-4000-8000-000000000000', [])).toThrow(/no subscription/);
  });
});

describe('ARM Subscriptions API', () => {
  it('lists with an absolute nextLink and gets one subscription', async () => {
    const tenant = generateTenant({ count: 230, seed: 5 });
    const azure = await startLocalAzure({ tenant });
    try {
      const headers = { authorization: `Bearer ${azure.tokens.issue(azure.url)}` };
      const seen: string[] = [];
      let next: string | undefined = `${azure.url}/subscriptions?api-version=2022-12-01`;
      while (next) {
        const page = (await (await fetch(next, { headers })).json()) as { value: any[]; nextLink?: string };
        seen.push(...page.value.map((s) => s.subscriptionId));
        if (page.nextLink) expect(page.nextLink.startsWith(`${azure.url}/subscriptions?api-version=2022-12-01&$skiptoken=`)).toBe(true);
        next = page.nextLink;
      }
      expect(seen).toEqual(tenant.listSubscriptions().map((s) => s.subscriptionId));
      expect(azure.requests.count('subscriptions')).toBe(3);

      const one = tenant.listSubscriptions()[7]!;
      const body = (await (
        await fetch(`${azure.url}/subscriptions/${one.subscriptionId}?api-version=2022-12-01`, { headers })
      ).json()) as any;
      expect(body).toMatchObject({
        id: `/subscriptions/${one.subscriptionId}`,
        subscriptionId: one.subscriptionId,
        displayName: one.displayName,
        state: one.state,
        tenantId: tenant.tenantId,
        tags: one.tags,
        authorizationSource: 'RoleBased',
      });
      const missing = await fetch(`${azure.url}/subscriptions/99999999-9999-4999-8999-999999999999?api-version=2022-12-01`, { headers });
      expect([missing.status, ((await missing.json()) as any).error.code]).toEqual([404, 'SubscriptionNotFound']);
      const badVersion = await fetch(`${azure.url}/subscriptions?api-version=2099-01-01`, { headers });
      expect([badVersion.status, ((await badVersion.json()) as any).error.code]).toEqual([400, 'InvalidApiVersionParameter']);
    } finally {
      await azure.close();
    }
  });
});

describe('standalone runner (test/azure-server/main.ts)', () => {
  it('prints the export lines, serves, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/azure-server/main.ts', '--subscriptions', '20', '--seed', '1'], {
      cwd: new URL('../..', import.meta.url),
      env: { ...process.env, CONTACT_WATCH_TEST_TLS_DIR: '' },
    });
    try {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`runner printed no env within 20 s:\n${stdout}`)), 20_000);
        child.stdout.on('data', () => {
          if (stdout.includes('# running until')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', (code) => reject(new Error(`runner exited early with ${code}`)));
      });
      const env = Object.fromEntries([...stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
      expect(Object.keys(env).sort()).toEqual([
        'AZURE_RESOURCE_MANAGER_ENDPOINT',
        'CONTACT_WATCH_ACS_CONNECTION_STRING',
        'IDENTITY_ENDPOINT',
        'IDENTITY_HEADER',
        'NODE_EXTRA_CA_CERTS',
      ]);
      expect(stdout).toMatch(/# expected with the default policy: compliant \d+, noncompliant \d+, error 0, skipped \d+/);

      const tokenResponse = await fetch(
        `${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${encodeURIComponent(env.AZURE_RESOURCE_MANAGER_ENDPOINT!)}`,
        {
          headers: { 'X-IDENTITY-HEADER': env.IDENTITY_HEADER! },
        },
      );
      expect(tokenResponse.status).toBe(200);

      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
