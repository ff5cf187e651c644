/**
 * MQTT usernames and passwords the embedded broker accepts (DESIGN §7).
 *
 * Configured users come from a JSON file (`mqttUsersFile`) holding only scrypt hashes, so the
 * file may be read by more people than the devices' own secrets are. Generated credentials (the
 * core's own login to its embedded broker, the simulated devices of `npm start`) live in memory
 * only, for one process lifetime, and are compared in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { SiteLayout } from '../../domain/site-layout.js';
import { MQTT_ROLES, deviceAddressOf, deviceUsername, type MqttIdentity, type MqttRole } from '../../domain/mqtt-acl.js';
import { PickwireError } from '../../errors.js';

const scryptAsync = promisify(scrypt) as (password: Buffer | string, salt: Buffer, keylen: number, opts: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** scrypt parameters: ~16 MiB and a few tens of ms per check, paid once per connection. */
const N = 16384;
const R = 8;
const P = 1;
const KEY_LEN = 32;
const maxmem = (n: number, r: number) => 256 * n * r;

/** `scrypt$N$r$p$<salt base64>$<hash base64>` of a password; what the users file stores. */
export async function hashMqttPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, KEY_LEN, { N, r: R, p: P, maxmem: maxmem(N, R) });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

interface ScryptHash {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function parseHash(text: string): ScryptHash | undefined {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return undefined;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds keep a hostile file from asking for gigabytes of memory per login.
  if (n < 1024 || n > 1 << 20 || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const hash = Buffer.from(m[5] ?? '', 'base64');
  return hash.length >= 16 ? { n, r, p, salt: Buffer.from(m[4] ?? '', 'base64'), hash } : undefined;
}

type Secret = { kind: 'scrypt'; value: ScryptHash } | { kind: 'plain'; value: Buffer };

interface Entry {
  identity: MqttIdentity;
  secret: Secret;
}

export interface GeneratedCredential {
  username: string;
  password: string;
  role: MqttRole;
}

/**
 * The logins as plain data, for the embedded broker's worker thread (structured clone turns
 * each Buffer into a Uint8Array; `MqttCredentials.fromData` turns them back).
 */
export type CredentialsData = { identity: MqttIdentity; secret: { kind: 'scrypt'; value: { n: number; r: number; p: number; salt: Uint8Array; hash: Uint8Array } } | { kind: 'plain'; value: Uint8Array } }[];

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export class MqttCredentials {
  private readonly entries = new Map<string, Entry[]>();

  get size(): number {
    return this.entries.size;
  }

  toData(): CredentialsData {
    return [...this.entries.values()].flat();
  }

  static fromData(data: CredentialsData): MqttCredentials {
    const c = new MqttCredentials();
    for (const { identity, secret } of data) {
      c.add({
        identity,
        secret: secret.kind === 'plain' ? { kind: 'plain', value: asBuffer(secret.value) } : { kind: 'scrypt', value: { ...secret.value, salt: asBuffer(secret.value.salt), hash: asBuffer(secret.value.hash) } },
      });
    }
    return c;
  }

  /** The identity the username and password prove, or undefined. Never throws. */
  async verify(username: string | undefined, password: Buffer | undefined): Promise<MqttIdentity | undefined> {
    if (username === undefined || password === undefined) return undefined;
    for (const e of this.entries.get(username) ?? []) {
      if (await matches(e.secret, password)) return e.identity;
    }
    return undefined;
  }

  addHashed(username: string, role: MqttRole, passwordHash: string): void {
    const value = parseHash(passwordHash);
    if (!value) throw new PickwireError('PW_ERR_CONFIG_INVALID', `MQTT user ${username}: passwordHash is not a scrypt hash made by hashMqttPassword`);
    this.add({ identity: { username, role }, secret: { kind: 'scrypt', value } });
  }

  /** A random password for one process lifetime, kept in memory only. */
  generate(username: string, role: MqttRole): GeneratedCredential {
    const password = randomBytes(24).toString('base64url');
    this.add({ identity: { username, role }, secret: { kind: 'plain', value: Buffer.from(password) } });
    return { username, password, role };
  }

  private add(e: Entry): void {
    checkUsername(e.identity.username, e.identity.role);
    this.entries.set(e.identity.username, [...(this.entries.get(e.identity.username) ?? []), e]);
  }
}

async function matches(secret: Secret, password: Buffer): Promise<boolean> {
  if (secret.kind === 'plain') {
    return secret.value.length === password.length && timingSafeEqual(secret.value, password);
  }
  const { n, r, p, salt, hash } = secret.value;
  const got = await scryptAsync(password, salt, hash.length, { N: n, r, p, maxmem: maxmem(n, r) });
  return timingSafeEqual(got, hash);
}

function checkUsername(username: string, role: MqttRole): void {
  // Wildcards in a username would widen every `%u` rule (Mosquitto refuses such clients too).
  // eslint-disable-next-line no-control-regex -- NUL is forbidden in MQTT topics
  if (username === '' || /[+#\u0000]/.test(username)) throw new PickwireError('PW_ERR_CONFIG_INVALID', `MQTT username ${JSON.stringify(username)} is empty or contains +, # or NUL`);
  if (role === 'device' && !deviceAddressOf(username)) {
    throw new PickwireError(
      'PW_ERR_CONFIG_INVALID',
      `MQTT device user ${JSON.stringify(username)}: a device's username is its topic address, manufacturer/serialNumber for a VDA 5050 vehicle or site/asrs|conveyor|arm/deviceId for a wcs/v1 device`,
    );
  }
}

/**
 * Reads `{ "users": [{ "username", "role": "core"|"device"|"observer", "passwordHash" }] }` and
 * adds each user. Any problem stops the boot naming the entry: a silently skipped device would
 * just fail to connect later, far from the cause.
 */
export function loadMqttUsersFile(file: string, into: MqttCredentials): number {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PickwireError('PW_ERR_CONFIG_INVALID', `mqttUsersFile ${file}: ${(err as Error).message}`);
  }
  const users = (json as { users?: unknown }).users;
  if (!Array.isArray(users)) throw new PickwireError('PW_ERR_CONFIG_INVALID', `mqttUsersFile ${file}: expected { "users": [...] }`);
  users.forEach((u: unknown, i) => {
    const { username, role, passwordHash } = (u ?? {}) as Record<string, unknown>;
    if (typeof username !== 'string' || typeof passwordHash !== 'string' || !MQTT_ROLES.includes(role as MqttRole)) {
      throw new PickwireError('PW_ERR_CONFIG_INVALID', `mqttUsersFile ${file}: users[${i}] needs username, passwordHash and role (${MQTT_ROLES.join(', ')})`);
    }
    into.addHashed(username, role as MqttRole, passwordHash);
  });
  return users.length;
}

/** Key of a device in the simulated site's credential map: `amr:AMR-01`, `asrs:ASRS-1`. */
export const simDeviceKey = (deviceClass: string, id: string): string => `${deviceClass}:${id}`;

/** One generated login per device of a layout, keyed by `simDeviceKey`. */
export function generateSiteCredentials(layout: SiteLayout, into: MqttCredentials): Record<string, { username: string; password: string }> {
  const out: Record<string, { username: string; password: string }> = {};
  const site = layout.site.id;
  const put = (key: string, username: string) => {
    const c = into.generate(username, 'device');
    out[key] = { username: c.username, password: c.password };
  };
  for (const a of layout.devices.amrs) put(simDeviceKey('amr', a.serialNumber), deviceUsername({ protocol: 'vda5050', manufacturer: a.manufacturer, serialNumber: a.serialNumber }));
  for (const d of layout.devices.asrs) put(simDeviceKey('asrs', d.id), deviceUsername({ protocol: 'wcs', site, deviceClass: 'asrs', deviceId: d.id }));
  for (const d of layout.devices.conveyors) put(simDeviceKey('conveyor', d.id), deviceUsername({ protocol: 'wcs', site, deviceClass: 'conveyor', deviceId: d.id }));
  for (const d of layout.devices.arms) put(simDeviceKey('arm', d.id), deviceUsername({ protocol: 'wcs', site, deviceClass: 'arm', deviceId: d.id }));
  return out;
}
