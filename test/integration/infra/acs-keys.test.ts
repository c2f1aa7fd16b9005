/**
 * The deployment never relies on an Azure Communication Services access key: the app sends with
 * its managed identity, and the ACS resource infra/ deploys has local authentication off (the
 * `communication-service-hardened` rule of test/infra/bicep-lint.ts holds every such resource to
 * disableLocalAuth: true). Here: that rule has a resource to check in infra/, and nothing that runs
 * in or around the deployment (the templates, azure.yaml and its hooks, infra/scripts/) reads a
 * key or a connection string, or sets the connection-string setting the app keeps for local runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBicepFiles, lintBicepDirectory, NOT_SET_IN_AZURE, REPO_ROOT } from '../../infra/bicep-lint.js';

const INFRA = join(REPO_ROOT, 'infra');
const read = (path: string): string => readFileSync(path, 'utf8');

/** What reading an ACS key looks like in Bicep, in the az CLI and in azd's environment. */
const KEY_READS: readonly RegExp[] = [
  /\blistKeys\s*\(/i, // communicationService.listKeys() in Bicep
  /\baz\s+communication\s+list-key\b/i, // the az CLI
  /\b(?:primary|secondary)(?:Key|ConnectionString)\b/, // the fields listKeys returns
  // The app's local-only setting; listed empty, as the function app's settings do to show it is
  // deliberately unset, it is fine (the app-settings-agree rule refuses any value).
  /\bCONTACT_WATCH_ACS_CONNECTION_STRING\b(?!: ''(?:\s*\/\/.*)?$)/,
  /accesskey=/i, // a connection string written out
];

describe('ACS access keys', () => {
  it('infra/ declares the ACS resource with local authentication off, and the hardening rule passes it', async () => {
    // Declared, not `existing`: a reference to the resource elsewhere (for a role assignment) is not one.
    const declaring = findBicepFiles(INFRA).filter((path) => /'Microsoft\.Communication\/communicationServices@[^']+' =/.test(read(path)));
    expect(declaring.map((path) => path.slice(REPO_ROOT.length + 1))).toEqual(['infra/modules/communication.bicep']);
    expect(read(declaring[0]!)).toMatch(/^\s*disableLocalAuth: true$/m);
    const { findings } = await lintBicepDirectory(INFRA, { localSettingsPath: false });
    expect(findings.filter((finding) => finding.rule === 'communication-service-hardened')).toEqual([]);
  });

  it('nothing in the deployment reads a key or a connection string', () => {
    const files = [
      ...findBicepFiles(INFRA),
      ...readdirSync(join(INFRA, 'scripts')).map((name) => join(INFRA, 'scripts', name)),
      join(INFRA, 'main.parameters.json'),
      join(REPO_ROOT, 'azure.yaml'),
    ];
    const reads = files.flatMap((path) =>
      read(path)
        .split('\n')
        .flatMap((line, index) =>
          KEY_READS.some((pattern) => pattern.test(line)) ? [`${path.slice(REPO_ROOT.length + 1)}:${index + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(reads).toEqual([]);
  });

  it('keeps the connection string out of the app settings in Azure', () => {
    expect(Object.keys(NOT_SET_IN_AZURE)).toContain('CONTACT_WATCH_ACS_CONNECTION_STRING');
  });
});
