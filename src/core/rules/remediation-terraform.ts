/**
 * The Terraform form of a fix: the azapi provider's `azapi_resource` for the subscription's
 * `default` security contact, in the 2023-12-01-preview API, with the same body as the REST PUT.
 * azapi 2.x takes `body` as an HCL object, so the body is written as HCL (src/core/hcl.ts), not
 * through jsonencode. The azurerm provider's `azurerm_security_center_contact` is not used: it
 * writes the 2017-08-01-preview shape (email, phone, alert_notifications, alerts_to_admins) and
 * cannot set attack path e-mails, the minimal severity or the 2023 notification sources.
 */
import type { ContactShape } from '../model.js';
import { hclAttributes, hclString } from '../hcl.js';

const API_VERSION = '2023-12-01-preview';
const RESOURCE_ADDRESS = 'azapi_resource.security_contact';

/**
 * Whether the subscription already has a contact named `default`, which azapi must be given
 * through an import (it refuses to create a resource that exists):
 * - `absent`: no contact at all, so it is created;
 * - `present`: the contact is of the 2023 or 2020 API, whose one contact is `default`;
 * - `unknown`: for the rules' generic fix, or contacts of the 2017 API (named `default1`, …).
 */
export type DefaultContact = 'absent' | 'present' | 'unknown';

/** What is known of `default` from the shape of the subscription's contact as read. */
export function defaultContactFromShape(shape: ContactShape): DefaultContact {
  if (shape === 'none') return 'absent';
  return shape === '2017-08-01-preview' ? 'unknown' : 'present';
}

export interface TerraformOptions {
  /** A lower-case GUID, or the `<subscription-id>` of the rules' generic fix. */
  subscription: string;
  defaultContact: DefaultContact;
  /** Comment lines (without `# `) for the top of the file: what the body is, what to replace. */
  comments: readonly string[];
}

/** A whole `security-contact.tf` that writes `body` as the subscription's `default` contact. */
export function azapiSecurityContactTerraform(body: unknown, options: TerraformOptions): string {
  const { subscription, defaultContact, comments } = options;
  const contactId = `/subscriptions/${subscription}/providers/Microsoft.Security/securityContacts/default?api-version=${API_VERSION}`;
  const importBlock = ['import {', `  to = ${RESOURCE_ADDRESS}`, `  id = ${hclString(contactId)}`, '}'];
  const lines = [
    '# security-contact.tf: terraform init, then terraform apply (Terraform 1.5 or later, azapi provider 2.x).',
    ...comments.map((comment) => `# ${comment}`),
    'terraform {',
    '  required_providers {',
    '    azapi = {',
    '      source  = "Azure/azapi"',
    '      version = "~> 2.0"',
    '    }',
    '  }',
    '}',
    '',
    ...importLines(defaultContact, importBlock),
    'resource "azapi_resource" "security_contact" {',
    ...hclAttributes(
      [
        ['type', `Microsoft.Security/securityContacts@${API_VERSION}`],
        ['name', 'default'],
        ['parent_id', `/subscriptions/${subscription}`],
        ['body', body],
      ],
      '  ',
    ),
    '}',
    '',
  ];
  return lines.join('\n');
}

function importLines(defaultContact: DefaultContact, importBlock: string[]): string[] {
  switch (defaultContact) {
    case 'absent':
      return [];
    case 'present':
      return ['# The subscription has this contact already: Terraform takes it over rather than creating it.', ...importBlock, ''];
    case 'unknown':
      return [
        '# If the subscription has a contact named default already, uncomment this block: azapi refuses to create',
        '# a resource that exists, so Terraform must take it over first.',
        ...importBlock.map((line) => `# ${line}`),
        '',
      ];
  }
}
