/**
 * The Mosquitto `acl_file` of deploy/mosquitto/ is the embedded broker's ACL, not a lookalike:
 * it is checked against the rules in code, and a real Mosquitto (Debian's package) started with
 * it, a password file and a real core proves that a device cannot write under another device's
 * address or publish commands there either.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMosquittoAcl } from '../src/domain/mqtt-acl.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { MOSQUITTO_SKIP_REASON, mosquittoBinary } from './support/mosquitto.js';
import { freePort } from './support/process.js';
import { batteriesSeenByCore, idleVdaState } from './support/vehicle-reports.js';

const ACL_FILE = new URL('../deploy/mosquitto/acl.example', import.meta.url);
const MANUFACTURER = 'pickwire-sim';
const USERS = {
  'pickwire-core': 'core-password-0123456789',
  'pickwire-sim/amr-01': 'amr-01-password-0123456789',
  'pickwire-sim/amr-02': 'amr-02-password-0123456789',
};

describe('deploy/mosquitto/acl.example', () => {
  it('is exactly the ACL the embedded broker enforces', () => {
    // On failure: npx tsx src/adapters/mqtt/render-mosquitto-acl.ts uagv pickwire-observer > deploy/mosquitto/acl.example
    expect(readFileSync(ACL_FILE, 'utf8')).toBe(renderMosquittoAcl('uagv', { core: 'pickwire-core', observers: ['pickwire-observer'] }));
  });
});

const bin = mosquittoBinary();
const passwdBin = bin ? join(dirname(bin) === '/usr/sbin' ? '/usr/bin' : dirname(bin), 'mosquitto_passwd') : undefined;
const runnable = bin !== undefined && passwdBin !== undefined && existsSync(passwdBin);

async function waitForPort(port: number): Promise<void> {
  await waitFor(
    `mosquitto on port ${port}`,
    () =>
      new Promise<boolean>((resolve) => {
        const s = tcpConnect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }),
    10_000,
    50,
  );
}

describe.skipIf(!runnable)(`Mosquitto with the Pickwire acl_file${runnable ? '' : ` — skipped: ${MOSQUITTO_SKIP_REASON}`}`, () => {
  let dir: string;
  let broker: ChildProcess;
  let url: string;
  let h: Harness;
  const clients: MqttClient[] = [];
  let batteriesOfAmr02: number[] = [];

  const login = async (username: keyof typeof USERS, password = USERS[username]): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(url, { username, password, protocolVersion: 5, reconnectPeriod: 0, clientId: `acl-${username.replace('/', '-')}-${clients.length}` });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pickwire-mosquitto-acl-'));
    // Started as root, Mosquitto drops to its own user before reading the password and ACL files.
    chmodSync(dir, 0o755);
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, '');
    for (const [user, password] of Object.entries(USERS)) {
      const r = spawnSync(passwdBin as string, ['-b', passwd, user, password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed for ${user}: ${r.stderr}`);
    }
    // A copy beside the password file: mosquitto drops to its own user and may not be able to
    // read the checkout (a fresh clone under a private temp directory, for one).
    const acl = join(dir, 'acl');
    copyFileSync(ACL_FILE, acl);
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`, 'persistence false', 'set_tcp_nodelay true', 'log_type error', ''].join('\n'),
    );
    broker = spawn(bin as string, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    broker.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitForPort(port).catch((err: Error) => {
      throw new Error(`${err.message}; mosquitto said: ${stderr}`);
    });
    url = `mqtt://127.0.0.1:${port}`;
    // The real core, logged in as pickwire-core through the external-broker settings.
    h = await startHarness({ mqttUrl: url, simulate: false, env: { PICKWIRE_MQTT_PASSWORD: USERS['pickwire-core'] } });
    batteriesOfAmr02 = batteriesSeenByCore(h, 'amr-02');
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await h?.stop();
    if (broker && broker.exitCode === null) {
      const exited = new Promise((resolve) => broker.once('exit', resolve));
      broker.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password', async () => {
    await expect(login('pickwire-sim/amr-01', 'not-the-password')).rejects.toThrow(/not authorized|bad user name or password/i);
  });

  it("drops a device's report under another device's address; the core sees only the genuine one", async () => {
    const amr02 = await login('pickwire-sim/amr-02');
    await amr02.publishAsync(`uagv/v2/${MANUFACTURER}/amr-02/state`, idleVdaState(MANUFACTURER, 'amr-02', 66), { qos: 1 });
    await waitFor('amr-02 battery 66 in the registry', () => h.core.registry.get('amr-02')?.battery === 66, 10_000);

    const impostor = await login('pickwire-sim/amr-01');
    // MQTT 5 lets Mosquitto say so: PUBACK reason 0x87 (not authorized).
    await expect(impostor.publishAsync(`uagv/v2/${MANUFACTURER}/amr-02/state`, idleVdaState(MANUFACTURER, 'amr-02', 4), { qos: 1 })).rejects.toThrow(/not authorized|135/i);
    await amr02.publishAsync(`uagv/v2/${MANUFACTURER}/amr-02/state`, idleVdaState(MANUFACTURER, 'amr-02', 67), { qos: 1 });
    await waitFor('amr-02 battery 67 in the registry', () => h.core.registry.get('amr-02')?.battery === 67, 10_000);
    expect(batteriesOfAmr02).not.toContain(4);
  });

  it('lets a device read only its own commands, and only the core write them', async () => {
    const amr01 = await login('pickwire-sim/amr-01');
    const orders: string[] = [];
    amr01.on('message', (topic, payload) => orders.push(`${topic} ${payload.toString()}`));
    const own = await amr01.subscribeAsync(`uagv/v2/${MANUFACTURER}/amr-01/order`, { qos: 1 });
    expect(own.map((g) => g.qos)).toEqual([1]);
    // Mosquitto 2.0 grants this subscription (SUBACK 1) and enforces `read` per message instead:
    // what matters is that nothing addressed to amr-02 is ever delivered to amr-01.
    await amr01.subscribeAsync(`uagv/v2/${MANUFACTURER}/amr-02/order`, { qos: 1 }).catch(() => undefined);

    // The device forges an order to itself: refused (PUBACK 0x87 under MQTT 5).
    await expect(amr01.publishAsync(`uagv/v2/${MANUFACTURER}/amr-01/order`, 'forged', { qos: 1 })).rejects.toThrow(/not authorized|135/i);
    // The core's orders, amr-02's first: had it been delivered, it would arrive before amr-01's.
    const core = await login('pickwire-core');
    await core.publishAsync(`uagv/v2/${MANUFACTURER}/amr-02/order`, 'for-amr-02', { qos: 1 });
    await core.publishAsync(`uagv/v2/${MANUFACTURER}/amr-01/order`, 'genuine', { qos: 1 });
    await waitFor('the core order', () => orders.length > 0, 5000);
    expect(orders).toEqual([`uagv/v2/${MANUFACTURER}/amr-01/order genuine`]);
  });
});
