/**
 * Who may publish and subscribe where on the MQTT side (DESIGN §7), as data: one list of rules
 * that the embedded broker enforces (src/adapters/mqtt/embedded-broker.ts) and that
 * `renderMosquittoAcl` writes out as a Mosquitto `acl_file` for external brokers, so both
 * brokers apply the same rules.
 *
 * A device's MQTT username is its topic address — `manufacturer/serialNumber` for a VDA 5050
 * vehicle, `site/class/deviceId` for a wcs/v1 device — so a rule can say "under your own
 * address" as `%u`, exactly as Mosquitto's `pattern` lines do. Only the core publishes
 * commands; devices publish only what they report and read only their own commands.
 */

export const MQTT_ROLES = ['core', 'device', 'observer'] as const;
export type MqttRole = (typeof MQTT_ROLES)[number];

export const WCS_CLASSES = ['asrs', 'conveyor', 'arm'] as const;

export type DeviceAddress =
  | { protocol: 'vda5050'; manufacturer: string; serialNumber: string }
  | { protocol: 'wcs'; site: string; deviceClass: (typeof WCS_CLASSES)[number]; deviceId: string };

export interface MqttIdentity {
  username: string;
  role: MqttRole;
}

export type MqttAccess = 'publish' | 'subscribe';

export interface AclRule {
  role: MqttRole;
  access: MqttAccess;
  /** An MQTT topic filter; `%u` stands for the client's username (its device address). */
  pattern: string;
  why: string;
}

export type AclDecision = { allowed: true } | { allowed: false; reason: string };

// Reported by devices, read by the core (and observers).
const VDA_REPORTS = ['state', 'visualization', 'connection', 'factsheet'] as const;
const WCS_REPORTS = ['jobState', 'telemetry', 'connection', 'factsheet'] as const;
// Commands: written by the core only, read by the device they address.
const VDA_COMMANDS = ['order', 'instantActions'] as const;
const WCS_COMMANDS = ['job', 'instantActions'] as const;

/** The whole rule set for one VDA 5050 interface name (the first topic level, `uagv` by default). */
export function aclRules(vdaInterface: string): readonly AclRule[] {
  const vda = (who: string, t: string) => `${vdaInterface}/v2/${who}/${t}`;
  const wcs = (who: string, t: string) => `wcs/v1/${who}/${t}`;
  return [
    ...VDA_REPORTS.map((t) => ({ role: 'device' as const, access: 'publish' as const, pattern: vda('%u', t), why: 'a vehicle reports under its own address' })),
    ...VDA_COMMANDS.map((t) => ({ role: 'device' as const, access: 'subscribe' as const, pattern: vda('%u', t), why: 'a vehicle reads its own commands' })),
    ...WCS_REPORTS.map((t) => ({ role: 'device' as const, access: 'publish' as const, pattern: wcs('%u', t), why: 'a device reports under its own address' })),
    ...WCS_COMMANDS.map((t) => ({ role: 'device' as const, access: 'subscribe' as const, pattern: wcs('%u', t), why: 'a device reads its own commands' })),
    { role: 'device', access: 'subscribe', pattern: 'wcs/v1/+/core/state', why: "devices watch their master's presence" },

    ...VDA_COMMANDS.map((t) => ({ role: 'core' as const, access: 'publish' as const, pattern: vda('+/+', t), why: 'only the core commands vehicles' })),
    ...WCS_COMMANDS.map((t) => ({ role: 'core' as const, access: 'publish' as const, pattern: wcs('+/+/+', t), why: 'only the core commands devices' })),
    { role: 'core', access: 'publish', pattern: 'wcs/v1/+/core/state', why: "the core's retained presence and last will" },
    { role: 'core', access: 'publish', pattern: 'wcs/v1/+/core/handover', why: 'order lines handed to another site' },
    ...VDA_REPORTS.map((t) => ({ role: 'core' as const, access: 'subscribe' as const, pattern: vda('+/+', t), why: 'the core reads every vehicle' })),
    ...WCS_REPORTS.map((t) => ({ role: 'core' as const, access: 'subscribe' as const, pattern: wcs('+/+/+', t), why: 'the core reads every device' })),
    { role: 'core', access: 'subscribe', pattern: 'wcs/v1/+/core/+', why: "other sites' presence and handovers" },

    ...VDA_REPORTS.map((t) => ({ role: 'observer' as const, access: 'subscribe' as const, pattern: vda('+/+', t), why: 'monitoring reads, never writes' })),
    ...WCS_REPORTS.map((t) => ({ role: 'observer' as const, access: 'subscribe' as const, pattern: wcs('+/+/+', t), why: 'monitoring reads, never writes' })),
    { role: 'observer', access: 'subscribe', pattern: 'wcs/v1/+/core/state', why: 'monitoring reads, never writes' },
  ];
}

// eslint-disable-next-line no-control-regex -- NUL is forbidden in MQTT topics
const BAD_LEVEL = /[+#\u0000]/;

/**
 * The device address a username names, or undefined when it names none. Wildcards or NUL would
 * let a `%u` substitution widen a rule, so they are never part of an address.
 */
export function deviceAddressOf(username: string): DeviceAddress | undefined {
  const levels = username.split('/');
  if (levels.some((l) => l === '' || BAD_LEVEL.test(l))) return undefined;
  if (levels.length === 2) return { protocol: 'vda5050', manufacturer: levels[0] ?? '', serialNumber: levels[1] ?? '' };
  const cls = levels[1] as (typeof WCS_CLASSES)[number];
  if (levels.length === 3 && WCS_CLASSES.includes(cls)) return { protocol: 'wcs', site: levels[0] ?? '', deviceClass: cls, deviceId: levels[2] ?? '' };
  return undefined;
}

/** The username a device must use: its topic address. */
export function deviceUsername(a: DeviceAddress): string {
  return a.protocol === 'vda5050' ? `${a.manufacturer}/${a.serialNumber}` : `${a.site}/${a.deviceClass}/${a.deviceId}`;
}

/**
 * True when every topic `filter` can match is also matched by `pattern` (both MQTT filters).
 * For a publish, `filter` is the plain topic.
 */
export function filterCovered(pattern: string, filter: string): boolean {
  const p = pattern.split('/');
  const f = filter.split('/');
  for (let i = 0; i < p.length; i++) {
    const pl = p[i];
    if (pl === '#') return true;
    const fl = f[i];
    if (fl === undefined || fl === '#') return false;
    if (pl === '+') continue;
    if (fl !== pl) return false;
  }
  return f.length === p.length;
}

function decide(rules: readonly AclRule[], who: MqttIdentity, access: MqttAccess, topic: string): AclDecision {
  if (who.role === 'device' && deviceAddressOf(who.username) === undefined) {
    return { allowed: false, reason: 'username is not a device address' };
  }
  // A `$SYS/...` topic is never matched by a rule starting with a wildcard; none of ours do.
  for (const r of rules) {
    if (r.role !== who.role || r.access !== access) continue;
    if (filterCovered(r.pattern.replace('%u', who.username), topic)) return { allowed: true };
  }
  return { allowed: false, reason: `${who.role} ${who.username} may not ${access} ${topic}` };
}

/** Precomputes the rules of one interface name; the broker asks it on every publish and subscribe. */
export class MqttAcl {
  private readonly rules: readonly AclRule[];

  constructor(readonly vdaInterface: string) {
    this.rules = aclRules(vdaInterface);
  }

  mayPublish(who: MqttIdentity, topic: string): AclDecision {
    return decide(this.rules, who, 'publish', topic);
  }

  maySubscribe(who: MqttIdentity, filter: string): AclDecision {
    return decide(this.rules, who, 'subscribe', filter);
  }
}

/**
 * The same rules as a Mosquitto `acl_file`: device rules become `pattern` lines (which
 * Mosquitto applies to every authenticated client), core and observer rules become `topic`
 * lines under `user` blocks. Mosquitto's `read` covers subscribing, `write` publishing.
 */
export function renderMosquittoAcl(vdaInterface: string, users: { core: string; observers?: readonly string[] }): string {
  const rules = aclRules(vdaInterface);
  const verb = (a: MqttAccess) => (a === 'publish' ? 'write' : 'read');
  const lines = (role: MqttRole, keyword: 'pattern' | 'topic') =>
    rules.filter((r) => r.role === role).map((r) => `${keyword} ${verb(r.access)} ${r.pattern}`);
  const out = [
    '# Pickwire MQTT access rules for Mosquitto (acl_file): the same rules the embedded broker',
    '# enforces. Generated from src/domain/mqtt-acl.ts by',
    '#   npx tsx src/adapters/mqtt/render-mosquitto-acl.ts [interfaceName] > acl',
    '# (test/mosquitto-acl.test.ts fails when this copy drifts from the code).',
    '#',
    `# VDA 5050 interface name: ${vdaInterface}. A device's MQTT username is its topic address:`,
    '#   a vehicle `manufacturer/serialNumber`, a wcs/v1 device `site/class/deviceId`',
    '#   (class asrs, conveyor or arm), so %u reaches exactly its own topics.',
    '# Mosquitto warns that `wcs/v1/+/core/state` has no %u; intended: every device may watch',
    "# its master's presence.",
    '',
    '# Devices: report under their own address, read only their own commands.',
    ...lines('device', 'pattern'),
    '',
    '# The core: the only client that publishes commands.',
    `user ${users.core}`,
    ...lines('core', 'topic'),
  ];
  for (const o of users.observers ?? []) out.push('', '# Observer: reads device reports, publishes nothing.', `user ${o}`, ...lines('observer', 'topic'));
  return out.join('\n') + '\n';
}
