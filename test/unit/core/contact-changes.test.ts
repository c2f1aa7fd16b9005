import { describe, expect, it } from 'vitest';
import { describeContactChanges } from '../../../src/core/contact-changes.js';
import type { SecurityContactPutBody } from '../../../src/core/model.js';

type Properties = SecurityContactPutBody['properties'];

/** A compliant contact in the 2023 shape; each test changes what it is about. */
function body(overrides: Partial<Properties> = {}): SecurityContactPutBody {
  return {
    properties: {
      emails: 'secops@fabrikam.com',
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Owner'] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'Medium' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'Critical' },
      ],
      ...overrides,
    },
  };
}

describe('describeContactChanges: addresses', () => {
  it('names the addresses removed, and adds no note while a valid one remains', () => {
    const before = body({ emails: 'secops@fabrikam.com;admin@contoso.com' });
    expect(describeContactChanges(before, body())).toEqual(['removed address admin@contoso.com, which failed email-configured']);
  });

  it('says the added addresses were added because no valid address remained', () => {
    const before = body({ emails: 'admin@contoso.com;noreply@example.com' });
    const after = body({ emails: 'security@fabrikam.com;soc@fabrikam.com' });
    expect(describeContactChanges(before, after)).toEqual([
      'removed addresses admin@contoso.com, noreply@example.com, which failed email-configured',
      'added addresses security@fabrikam.com, soc@fabrikam.com, as no valid address remained',
    ]);
  });

  it('gives a contact that had no address at all the same note', () => {
    expect(describeContactChanges(body({ emails: '' }), body())).toEqual([
      'added address secops@fabrikam.com, as no valid address remained',
    ]);
  });

  it('adds no note to an address added beside one that stayed', () => {
    expect(describeContactChanges(body(), body({ emails: 'secops@fabrikam.com;soc@fabrikam.com' }))).toEqual([
      'added address soc@fabrikam.com',
    ]);
  });

  it('names five addresses and counts the rest', () => {
    const bad = Array.from({ length: 7 }, (_, i) => `user${i + 1}@contoso.com`);
    const before = body({ emails: ['secops@fabrikam.com', ...bad].join(';') });
    expect(describeContactChanges(before, body())).toEqual([
      'removed 7 addresses (user1@contoso.com, user2@contoso.com, user3@contoso.com, user4@contoso.com, user5@contoso.com and 2 more), which failed email-configured',
    ]);
    // Exactly five are all named.
    const five = body({ emails: ['secops@fabrikam.com', ...bad.slice(0, 5)].join(';') });
    expect(describeContactChanges(five, body())).toEqual([
      'removed addresses user1@contoso.com, user2@contoso.com, user3@contoso.com, user4@contoso.com, user5@contoso.com, which failed email-configured',
    ]);
  });

  it('compares addresses without regard to case, splitting on ";" and "," and ignoring blanks', () => {
    const before = body({ emails: ' SecOps@Fabrikam.COM , SOC@fabrikam.com;; ' });
    const after = body({ emails: 'secops@fabrikam.com;soc@FABRIKAM.com' });
    expect(describeContactChanges(before, after)).toEqual([]);
  });
});

describe('describeContactChanges: settings', () => {
  it('says the contact was turned on, and nothing when it was already on', () => {
    expect(describeContactChanges(body({ isEnabled: false }), body())).toEqual(['turned the contact on (isEnabled was false)']);
    expect(describeContactChanges(body(), body())).toEqual([]);
  });

  it('says role notifications were turned on and Owner added', () => {
    const before = body({ notificationsByRole: { state: 'Off', roles: [] } });
    expect(describeContactChanges(before, body())).toEqual(['turned role notifications on', 'added Owner to the notified roles']);
  });

  it('adds Owner beside the roles already listed, compared without regard to case', () => {
    const before = body({ notificationsByRole: { state: 'On', roles: ['AccountAdmin'] } });
    const after = body({ notificationsByRole: { state: 'On', roles: ['AccountAdmin', 'Owner'] } });
    expect(describeContactChanges(before, after)).toEqual(['added Owner to the notified roles']);
    const lowerCase = body({ notificationsByRole: { state: 'on', roles: ['owner'] } });
    expect(describeContactChanges(lowerCase, body())).toEqual([]);
  });

  it('says an alert source was turned on, with its severity', () => {
    const before = body({ notificationsSources: [{ sourceType: 'AttackPath', minimalRiskLevel: 'Critical' }] });
    expect(describeContactChanges(before, body())).toEqual(['turned alert e-mails on for severity Medium and above']);
  });

  it('says an attack path source was turned on, with its risk level', () => {
    const before = body({ notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'Medium' }] });
    expect(describeContactChanges(before, body())).toEqual(['turned attack path e-mails on for risk level Critical and above']);
  });

  it('names the previous level when a level was lowered', () => {
    const before = body({
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'High' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'Critical' },
      ],
    });
    const after = body({
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'Low' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    });
    expect(describeContactChanges(before, after)).toEqual([
      'alert e-mails now for severity Low and above (was High)',
      'attack path e-mails now for risk level High and above (was Critical)',
    ]);
  });

  it('says a level that was not set was unset', () => {
    const before = body({ notificationsSources: [{ sourceType: 'Alert' }, { sourceType: 'AttackPath', minimalRiskLevel: 'Critical' }] });
    expect(describeContactChanges(before, body())).toEqual(['alert e-mails now for severity Medium and above (was unset)']);
  });

  it('finds a source whatever the case of its type, and ignores sources no rule reads', () => {
    const before = body({
      notificationsSources: [
        { sourceType: 'alert', minimalSeverity: 'Medium' },
        { sourceType: 'ATTACKPATH', minimalRiskLevel: 'Critical' },
      ],
    });
    const after = body({ notificationsSources: [...body().properties.notificationsSources, { sourceType: 'Other', level: 'x' }] });
    expect(describeContactChanges(before, after)).toEqual([]);
  });

  it('lists every change of a contact turned from nothing into a compliant one, in a fixed order', () => {
    const before = body({
      emails: 'admin@contoso.com',
      isEnabled: false,
      notificationsByRole: { state: 'Off', roles: ['AccountAdmin'] },
      notificationsSources: [],
    });
    const after = body({ notificationsByRole: { state: 'On', roles: ['AccountAdmin', 'Owner'] } });
    expect(describeContactChanges(before, after)).toEqual([
      'removed address admin@contoso.com, which failed email-configured',
      'added address secops@fabrikam.com, as no valid address remained',
      'turned the contact on (isEnabled was false)',
      'turned role notifications on',
      'added Owner to the notified roles',
      'turned alert e-mails on for severity Medium and above',
      'turned attack path e-mails on for risk level Critical and above',
    ]);
  });

  it('has no line when nothing changed, the phone included (a fix never changes it)', () => {
    expect(describeContactChanges(body({ phone: '+1 555 0100' }), body({ phone: '+1 555 0100' }))).toEqual([]);
  });
});
