/**
 * infra/scripts/postdeploy.sh, azd's postdeploy hook (README "Deploy it", step 1), run with sh
 * against stand-ins for the two programs it calls: `az` (records its arguments; lists the function
 * only from a given try on) and `sleep` (returns at once, so 30 tries take no time). It waits for
 * the deployed function, then subscribes it to the custom topic once, with the settings docs/reference/events.md
 * needs; it gives up with a message when the function never appears.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { REPO_ROOT } from '../../infra/bicep-lint.js';

const APP_ID =
  '/subscriptions/99999999-9999-4999-8999-999999999999/resourceGroups/rg-contact-watch-prod/providers/Microsoft.Web/sites/func-contact-watch-abc';
const TOPIC_ID =
  '/subscriptions/99999999-9999-4999-8999-999999999999/resourceGroups/rg-contact-watch-prod/providers/Microsoft.EventGrid/topics/evgt-contact-watch-abc';
const AZD_OUTPUTS = {
  AZURE_RESOURCE_GROUP: 'rg-contact-watch-prod',
  CONTACT_WATCH_FUNCTION_APP_NAME: 'func-contact-watch-abc',
  CONTACT_WATCH_FUNCTION_APP_ID: APP_ID,
  CONTACT_WATCH_EVENT_TOPIC_ID: TOPIC_ID,
};

let bin: string;

beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), 'cw-postdeploy-bin-'));
  // `az functionapp function show` succeeds from try $LISTED_FROM on (never when unset).
  writeFileSync(
    join(bin, 'az'),
    `#!/bin/sh
printf '%s\\n' "$*" >> "${join(bin, 'az.log')}"
case "$1 $2 $3" in
  "functionapp function show")
    tries=$(( $(cat "${join(bin, 'tries')}" 2>/dev/null || echo 0) + 1 )); echo "$tries" > "${join(bin, 'tries')}"
    if [ -n "\${LISTED_FROM:-}" ] && [ "$tries" -ge "$LISTED_FROM" ]; then echo contactEvents; exit 0; fi
    echo "ResourceNotFound" >&2; exit 3 ;;
  "eventgrid event-subscription create") exit 0 ;;
  *) echo "az stand-in: unexpected arguments: $*" >&2; exit 1 ;;
esac
`,
  );
  writeFileSync(join(bin, 'sleep'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, 'az'), 0o755);
  chmodSync(join(bin, 'sleep'), 0o755);
});

afterEach(() => {
  rmSync(bin, { recursive: true, force: true });
});

function postdeploy(env: Record<string, string>) {
  return spawnSync('sh', [join(REPO_ROOT, 'infra/scripts/postdeploy.sh')], {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const azCalls = (): string[] => (existsSync(join(bin, 'az.log')) ? readFileSync(join(bin, 'az.log'), 'utf8').trim().split('\n') : []);

describe('infra/scripts/postdeploy.sh', () => {
  it('waits until the function is listed, then subscribes it to the topic for ContactWatch.SubscriptionCreated, once', () => {
    const run = postdeploy({ ...AZD_OUTPUTS, LISTED_FROM: '3' });
    expect(run.status, run.stderr).toBe(0);
    const calls = azCalls();
    expect(calls.filter((call) => call.startsWith('functionapp function show'))).toHaveLength(3);
    expect(calls[0]).toBe(
      `functionapp function show --resource-group rg-contact-watch-prod --name func-contact-watch-abc --function-name ${FUNCTION_NAMES.contactEvents} --query name --output tsv`,
    );
    const creates = calls.filter((call) => call.startsWith('eventgrid event-subscription create'));
    expect(creates).toEqual([
      [
        'eventgrid event-subscription create --name contact-watch-subscription-created',
        `--source-resource-id ${TOPIC_ID}`,
        '--endpoint-type azurefunction',
        `--endpoint ${APP_ID}/functions/${FUNCTION_NAMES.contactEvents}`,
        '--included-event-types ContactWatch.SubscriptionCreated',
        '--event-delivery-schema eventgridschema',
        '--max-events-per-batch 1 --max-delivery-attempts 30 --event-ttl 1440 --output none',
      ].join(' '),
    ]);
    expect(run.stdout).toContain(`postdeploy: ${TOPIC_ID} → ${FUNCTION_NAMES.contactEvents} (ContactWatch.SubscriptionCreated)`);
  });

  it('gives up after 30 tries with a message that says where to look, subscribing nothing', () => {
    const run = postdeploy(AZD_OUTPUTS);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('contactEvents is not listed on func-contact-watch-abc after 5 minutes');
    expect(run.stderr).toContain("check the app's log stream");
    expect(azCalls().filter((call) => call.startsWith('functionapp function show'))).toHaveLength(30);
    expect(azCalls().some((call) => call.startsWith('eventgrid'))).toBe(false);
  });

  it('stops at once, naming the missing azd output, when provisioning has not run', () => {
    const { CONTACT_WATCH_EVENT_TOPIC_ID: _missing, ...withoutTopic } = AZD_OUTPUTS;
    const run = postdeploy(withoutTopic);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/CONTACT_WATCH_EVENT_TOPIC_ID: not set: run azd provision first/);
    expect(azCalls()).toEqual([]);
  });
});
