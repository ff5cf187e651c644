/**
 * MQTT authentication and ACLs on the embedded broker (DESIGN §7), end to end: a real core with
 * `mqttUsersFile`, real MQTT clients playing devices. A device that writes under another
 * device's address is refused by the broker, counted, and its message never reaches the core.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeVda } from '../protocols/index.js';
import { VDA_SAMPLES } from '../protocols/testdata/vda5050-samples.js';
import { hashMqttPassword } from '../src/adapters/mqtt/mqtt-credentials.js';
import { startSimulatedSite, type SimulatedSite } from '../simulators/index.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { batteriesSeenByCore, idleVdaState } from './support/vehicle-reports.js';

const MANUFACTURER = 'pickwire-sim';
const PASSWORDS = { 'amr-01': 'amr-01-password-0123', 'amr-02': 'amr-02-password-0123', 'amr-99': 'amr-99-password-0123', dispatcher: 'partner-core-password-01' };

async function refusedCount(h: Harness, reason: string): Promise<number> {
  const m = await h.core.metrics.registry.getSingleMetric('pickwire_mqtt_refused_total')?.get();
  return m?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/**
 * The count once it has caught up with `expected` (or after 5 s): the broker runs on a thread of
 * its own and reports each refusal to the core by message, so the count can follow the client's
 * answer by a moment.
 */
async function refusedCountOnceCounted(h: Harness, reason: string, expected: number): Promise<number> {
  await waitFor(`${expected} ${reason} counted`, async () => ((await refusedCount(h, reason)) >= expected ? true : undefined), 5_000, 20).catch(() => undefined);
  return refusedCount(h, reason);
}

function connect(h: Harness, username: string | undefined, password: string | undefined): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(h.core.mqttUrl, {
      clientId: `acl-test-${username ?? 'anon'}-${Math.random().toString(16).slice(2, 8)}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** SUBACK return codes; 128 is a refusal (mqtt.js rejects the promise then, carrying the SUBACK). */
async function grantedCodes(c: MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}

const closed = (c: MqttClient): Promise<void> => new Promise((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()));

describe('MQTT authentication and ACLs on the embedded broker', () => {
  let h: Harness;
  let dir: string;
  let batteriesOfAmr02: number[] = [];
  const clients: MqttClient[] = [];
  const login = async (name: keyof typeof PASSWORDS, username = `${MANUFACTURER}/${name}`): Promise<MqttClient> => {
    const c = await connect(h, username, PASSWORDS[name]);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pickwire-acl-'));
    const users = [
      ...(['amr-01', 'amr-02', 'amr-99'] as const).map(async (n) => ({ username: `${MANUFACTURER}/${n}`, role: 'device', passwordHash: await hashMqttPassword(PASSWORDS[n]) })),
      (async () => ({ username: 'dispatcher', role: 'core', passwordHash: await hashMqttPassword(PASSWORDS.dispatcher) }))(),
    ];
    const file = join(dir, 'mqtt-users.json');
    writeFileSync(file, JSON.stringify({ users: await Promise.all(users) }));
    h = await startHarness({ simulate: false, env: { PICKWIRE_MQTT_USERS_FILE: file } });
    batteriesOfAmr02 = batteriesSeenByCore(h, 'amr-02');
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password and an anonymous client, and counts both', async () => {
    const before = await refusedCount(h, 'bad-credentials');
    await expect(connect(h, `${MANUFACTURER}/amr-01`, 'not-the-password')).rejects.toMatchObject({ code: 4 });
    await expect(connect(h, undefined, undefined)).rejects.toMatchObject({ code: 4 });
    await expect(connect(h, `${MANUFACTURER}/amr-03`, PASSWORDS['amr-01'])).rejects.toMatchObject({ code: 4 });
    expect(await refusedCountOnceCounted(h, 'bad-credentials', before + 3)).toBe(before + 3);
  });

  it("refuses a device publishing on another device's state topic; the core never sees it", async () => {
    const amr02 = await login('amr-02');
    // Control: the real amr-02 reporting its own state does reach the core.
    await amr02.publishAsync(`uagv/v2/${MANUFACTURER}/amr-02/state`, idleVdaState(MANUFACTURER, 'amr-02', 77), { qos: 1 });
    await waitFor('amr-02 battery 77 in the registry', () => h.core.registry.get('amr-02')?.battery === 77, 10_000);

    const before = await refusedCount(h, 'publish-denied');
    const impostor = await login('amr-01');
    const gone = closed(impostor);
    impostor.publish(`uagv/v2/${MANUFACTURER}/amr-02/state`, idleVdaState(MANUFACTURER, 'amr-02', 5), { qos: 1 });
    await gone;
    expect(await refusedCountOnceCounted(h, 'publish-denied', before + 1)).toBe(before + 1);

    // A later genuine report arrives; the forged 5 % never did, in between or after.
    await amr02.publishAsync(`uagv/v2/${MANUFACTURER}/amr-02/state`, idleVdaState(MANUFACTURER, 'amr-02', 78), { qos: 1 });
    await waitFor('amr-02 battery 78 in the registry', () => h.core.registry.get('amr-02')?.battery === 78, 10_000);
    expect(batteriesOfAmr02).toContain(77);
    expect(batteriesOfAmr02).not.toContain(5);
  });

  it("refuses a device subscribing to another device's order topic", async () => {
    const before = await refusedCount(h, 'subscribe-denied');
    const amr01 = await login('amr-01');
    expect(await grantedCodes(amr01, [`uagv/v2/${MANUFACTURER}/amr-02/order`, `uagv/v2/${MANUFACTURER}/amr-01/order`])).toEqual([128, 1]);
    expect(await grantedCodes(amr01, ['uagv/v2/+/+/order'])).toEqual([128]);
    expect(amr01.connected).toBe(true);
    expect(await refusedCountOnceCounted(h, 'subscribe-denied', before + 2)).toBe(before + 2);
  });

  it('refuses a device publishing a command, even to itself', async () => {
    const before = await refusedCount(h, 'publish-denied');
    const amr01 = await login('amr-01');
    const gone = closed(amr01);
    amr01.publish(`uagv/v2/${MANUFACTURER}/amr-01/order`, JSON.stringify(VDA_SAMPLES.order), { qos: 1 });
    await gone;
    expect(await refusedCountOnceCounted(h, 'publish-denied', before + 1)).toBe(before + 1);
  });

  it('lets the core command a vehicle, which reads only its own commands', async () => {
    // A vehicle announcing itself before its state is seen gets a stateRequest from the core.
    const amr99 = await login('amr-99');
    const received: string[] = [];
    amr99.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    await amr99.subscribeAsync(`uagv/v2/${MANUFACTURER}/amr-99/instantActions`, { qos: 1 });
    const online = encodeVda('connection', { ...VDA_SAMPLES.connection, manufacturer: MANUFACTURER, serialNumber: 'amr-99', connectionState: 'ONLINE' });
    await waitFor(
      'a stateRequest from the core',
      async () => {
        await amr99.publishAsync(`uagv/v2/${MANUFACTURER}/amr-99/connection`, online, { qos: 1 });
        await new Promise((r) => setTimeout(r, 300));
        return received.some((m) => m.includes('stateRequest'));
      },
      15_000,
      700,
    );
    expect(amr99.connected).toBe(true);

    // Any client of role core may command: a partner dispatcher sends amr-99 an order.
    const dispatcher = await login('dispatcher', 'dispatcher');
    await dispatcher.publishAsync(`uagv/v2/${MANUFACTURER}/amr-99/instantActions`, JSON.stringify({ ...VDA_SAMPLES.instantActions, serialNumber: 'amr-99' }), { qos: 1 });
    await waitFor('the partner command', () => received.length >= 2, 5000);
    expect(dispatcher.connected).toBe(true);
  });
});

describe('the demo (`simulate` without a users file): generated logins for every device', () => {
  let h: Harness;
  let site: SimulatedSite | undefined;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    h = await startHarness({ simulate: false, env: { PICKWIRE_SIMULATE: 'true' } });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await site?.stop();
    await h?.stop();
  });

  it('brings every simulated device online with its own login, and nobody is refused', async () => {
    const logins = h.core.mqttDeviceLogins;
    const { amrs, asrs, conveyors, arms } = h.core.layout.devices;
    expect(Object.keys(logins ?? {})).toHaveLength(amrs.length + asrs.length + conveyors.length + arms.length);
    site = await startSimulatedSite({
      layout: h.core.layout,
      mqttUrl: h.core.mqttUrl,
      interfaceName: h.core.config.mqttInterface,
      credentials: ({ deviceClass, id }) => logins?.[`${deviceClass}:${id}`],
    });
    await waitFor('every device reachable', () => h.core.registry.list().every((d) => h.core.registry.isReachable(d, Date.now())), 30_000);
    for (const reason of ['bad-credentials', 'publish-denied', 'subscribe-denied']) expect(await refusedCount(h, reason), reason).toBe(0);
  });

  it('lets an anonymous client watch but not write', async () => {
    const watcher = await connect(h, undefined, undefined);
    clients.push(watcher);
    expect(await grantedCodes(watcher, [`wcs/v1/${h.core.layout.site.id}/core/state`, 'uagv/v2/+/+/state', 'uagv/v2/+/+/order'])).toEqual([1, 1, 128]);
    const gone = closed(watcher);
    watcher.publish(`uagv/v2/${MANUFACTURER}/amr-01/instantActions`, JSON.stringify(VDA_SAMPLES.instantActions), { qos: 1 });
    await gone;
    expect(await refusedCount(h, 'publish-denied')).toBe(1);
  });
});
