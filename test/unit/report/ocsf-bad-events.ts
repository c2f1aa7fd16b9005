/**
 * Bad OCSF events, each made from a good one by one change, to show that the schemas refuse what
 * they must (test/unit/report/ocsf.test.ts) and agree on it (ocsf-definitions.test.ts):
 *
 * - OCSF_VIOLATIONS break OCSF 1.6.0 itself: both schema/ocsf-compliance-finding-1.6.0.json and
 *   OCSF's own definitions refuse them;
 * - OUR_RESTRICTIONS are valid OCSF that contact-watch never writes: our schema refuses them, the
 *   definitions accept them (our schema is the narrower one, on purpose).
 *
 * Each case: its name, the change, and what our schema's message says.
 */
export type BadEvent = [name: string, plant: (event: any) => void, message: RegExp];

export const OCSF_VIOLATIONS: BadEvent[] = [
  ['a missing required attribute (class_uid)', (e) => delete e.class_uid, /must have required property 'class_uid'/],
  ['a missing required attribute (time)', (e) => delete e.time, /must have required property 'time'/],
  [
    'a missing required attribute of an object (finding_info.uid)',
    (e) => delete e.finding_info.uid,
    /\/finding_info must have required property 'uid'/,
  ],
  ['a missing required attribute of an object (remediation.desc)', (e) => delete e.remediation.desc, /required property 'desc'/],
  ['a missing required object of the cloud profile (cloud)', (e) => delete e.cloud, /must have required property 'cloud'/],
  ['a missing cloud.provider', (e) => delete e.cloud.provider, /\/cloud must have required property 'provider'/],
  ['a missing metadata.product', (e) => delete e.metadata.product, /\/metadata must have required property 'product'/],
  ['a missing compliance', (e) => delete e.compliance, /must have required property 'compliance'/],
  ['a misspelt attribute (finding_info.titel)', (e) => (e.finding_info.titel = e.finding_info.title), /additional properties.*titel/],
  ['a misspelt top-level attribute (complaince)', (e) => (e.complaince = {}), /must NOT have additional properties.*complaince/],
  ['a misspelt attribute of a check (check.nmae)', (e) => (e.compliance.checks[0].nmae = 'x'), /additional properties.*nmae/],
  ['an attribute of a profile not applied (time_dt, of the datetime profile)', (e) => (e.time_dt = '2025-03-01T10:00:42.500Z'), /time_dt/],
  ['a class_uid of another class', (e) => (e.class_uid = 2001), /\/class_uid must be equal to constant/],
  ['a category_uid of another category', (e) => (e.category_uid = 1), /\/category_uid must be equal to constant/],
  ['a type_uid of another class', (e) => (e.type_uid = 200101), /\/type_uid must be equal to one of the allowed values/],
  ['a type_uid that is not class_uid × 100 + activity_id', (e) => (e.type_uid = 200302), /\/type_uid must be equal to constant/],
  ['an unknown status_id', (e) => (e.status_id = 7), /\/status_id must be equal to one of the allowed values/],
  ['an unknown activity_id', (e) => (e.activity_id = 4), /\/activity_id must be equal to one of the allowed values/],
  ['an unknown severity_id', (e) => (e.severity_id = 9), /\/severity_id must be equal to one of the allowed values/],
  [
    'an unknown compliance.status_id',
    (e) => (e.compliance.status_id = 4),
    /\/compliance\/status_id must be equal to one of the allowed values/,
  ],
  ['a deprecated enum value (account type 3, AWS IAM User)', (e) => (e.cloud.account.type_id = 3), /\/cloud\/account\/type_id/],
  ['a deprecated attribute (compliance.status_detail)', (e) => (e.compliance.status_detail = 'x'), /additional properties.*status_detail/],
  ['a deprecated attribute (resource, for resources)', (e) => (e.resource = e.resources[0]), /additional properties.*"resource"/],
  ['a caption that is not its id’s (status “Pass” for status_id 1)', (e) => (e.status = 'Pass'), /\/status must be equal to constant/],
  [
    'a caption that is not its id’s (severity “Low” for severity_id 4)',
    (e) => (e.severity = 'Low'),
    /\/severity must be equal to constant/,
  ],
  ['a caption that is not its id’s (activity_name “Close” for 1)', (e) => (e.activity_name = 'Close'), /\/activity_name must be equal/],
  [
    'a caption that is not its id’s (compliance.status “Pass” for 3)',
    (e) => (e.compliance.status = 'Pass'),
    /\/compliance\/status must be equal to constant/,
  ],
  ['a caption that is not its id’s (account type “AWS Account” for 13)', (e) => (e.cloud.account.type = 'AWS Account'), /\/type must be/],
  ['a wrong type (time as text)', (e) => (e.time = '2025-03-01'), /\/time must be integer/],
  ['a wrong type (time with a fraction)', (e) => (e.time = 1.5), /\/time must be integer/],
  ['a wrong type (standards as one string)', (e) => (e.compliance.standards = 'CIS'), /\/compliance\/standards must be array/],
  ['a wrong type (a check’s standards as one string)', (e) => (e.compliance.checks[0].standards = 'CIS'), /standards must be array/],
  [
    'an object with neither name nor uid (the product)',
    (e) => (e.metadata.product = { vendor_name: 'x' }),
    /\/metadata\/product must have/,
  ],
  ['an account with neither name nor uid', (e) => (e.cloud.account = { type_id: 13, type: 'Azure Subscription' }), /\/cloud\/account must/],
];

export const OUR_RESTRICTIONS: BadEvent[] = [
  [
    'a finding status contact-watch never sets (2 In Progress)',
    (e) => Object.assign(e, { status_id: 2, status: 'In Progress' }),
    /\/status_id/,
  ],
  ['a severity contact-watch never sets (5 Critical)', (e) => Object.assign(e, { severity_id: 5, severity: 'Critical' }), /\/severity_id/],
  ['another OCSF version', (e) => (e.metadata.version = '1.5.0'), /\/metadata\/version must be equal to constant/],
  ['another product', (e) => (e.metadata.product.name = 'other'), /\/metadata\/product\/name must be equal to constant/],
  ['no profiles', (e) => (e.metadata.profiles = []), /\/metadata\/profiles must be equal to constant/],
  ['a status_detail on an open finding', (e) => (e.status_detail = 'why'), /status_detail|oneOf/],
  ['a status_code that is not the result of status_id', (e) => (e.compliance.status_code = 'pass'), /\/compliance\/status_code/],
  ['a rule id that is not a rule', (e) => (e.compliance.control = 'no-such-rule'), /\/compliance\/control must be equal to one of/],
  ['a subscription id that is not a GUID', (e) => (e.cloud.account.uid = 'sandbox'), /\/cloud\/account\/uid must match pattern/],
  ['a finding uid not of the form <subscription>/<rule>', (e) => (e.finding_info.uid = 'x'), /\/finding_info\/uid must match pattern/],
  ['the resources in the other order', (e) => e.resources.reverse(), /\/resources\/0/],
  ['a third resource', (e) => e.resources.push(e.resources[0]), /\/resources must NOT have more than 2 items/],
  ['a contact of a shape that does not exist', (e) => (e.resources[1].data.contact.shape = '2099-01-01'), /\/data\/contact\/shape/],
  ['a check without its standard', (e) => (e.compliance.checks[0].standards = []), /must NOT have fewer than 1 items/],
  ['another provider', (e) => (e.cloud.provider = 'AWS'), /\/cloud\/provider must be equal to constant/],
];
