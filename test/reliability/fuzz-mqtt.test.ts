/**
 * Bad input over MQTT (issue 7, item 4): every inbound topic (VDA 5050 state, visualization,
 * connection, factsheet; wcs/v1 jobState, telemetry, connection, factsheet) gets fuzzed payloads
 * through the real embedded broker while the simulated demo site runs.
 *
 * - On the topics of the site's own devices: payloads that can never be valid (random bytes,
 *   random JSON, hostile values, deep nesting). Each must be counted as rejected, exactly once.
 * - On the topics of ghost devices (unknown ids, so real robots are not impersonated): real
 *   messages captured from the simulated site, damaged field by field (wrong types, boundary and
 *   huge numbers, huge strings, deep nesting, missing and extra fields, truncated or bit-flipped
 *   bytes). These may be accepted or rejected, but never fail inside the core ("internal").
 *
 * Afterwards the core is healthy, the device registry still holds every device of the site with
 * its class, and the floor still picks an order.
 */
import fc from 'fast-check';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWcs, encodeWcs, type WcsMessages } from '../../protocols/index.js';
import { damagedBytes, damagedJsonText, deepNestingText, hostileValue, mutated, randomBytes, sameTypeMutated } from '../support/fuzz.js';
import { orderBody, startHarness, waitFor, type Harness } from '../support/harness.js';
import { counterSum, fetchMetrics } from '../support/metrics-text.js';

const RUNS_PER_TOPIC = Number(process.env.PICKWIRE_FUZZ_RUNS ?? 200);
const VDA_KINDS = ['state', 'visualization', 'connection', 'factsheet'] as const;
const WCS_KINDS = ['jobState', 'telemetry', 'connection', 'factsheet'] as const;
type WcsKind = (typeof WCS_KINDS)[number];
const GHOST = 'fuzz-ghost';
const REJECTED = 'pickwire_mqtt_messages_rejected_total';
const RECEIVED = 'pickwire_mqtt_messages_received_total';

describe('fuzzing every inbound MQTT topic', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ speed: 6 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('counts and drops bad payloads, never fails inside, and the floor keeps working', async () => {
    const layout = h.core.layout;
    const site = layout.site.id;
    const amr = layout.devices.amrs[0]!;
    const iface = h.core.config.mqttInterface;
    const wcsDevice = { asrs: layout.devices.asrs[0]!.id, conveyor: layout.devices.conveyors[0]!.id, arm: layout.devices.arms[0]!.id } as const;

    // Real messages of every inbound kind, as the simulated devices send them, to damage later.
    const client = await mqtt.connectAsync(h.core.mqttUrl, { clientId: 'fuzzer', protocolVersion: 4 });
    const vdaSamples = new Map<string, Record<string, unknown>>();
    const wcsSamples = new Map<string, { deviceClass: 'asrs' | 'conveyor' | 'arm'; bytes: Buffer }>();
    client.on('message', (topic, payload) => {
      const p = topic.split('/');
      if (p[0] === iface && p.length === 5 && !vdaSamples.has(p[4]!) && (VDA_KINDS as readonly string[]).includes(p[4]!)) {
        vdaSamples.set(p[4]!, JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
      } else if (p[0] === 'wcs' && p.length === 6 && !wcsSamples.has(p[5]!) && (WCS_KINDS as readonly string[]).includes(p[5]!) && p[3] !== 'core') {
        wcsSamples.set(p[5]!, { deviceClass: p[3] as 'asrs' | 'conveyor' | 'arm', bytes: Buffer.from(payload) });
      }
    });
    await client.subscribeAsync([`${iface}/v2/+/+/+`, `wcs/v1/${site}/+/+/+`], { qos: 0 });
    // Job states and visualization only flow while devices work: one line from each storage zone.
    const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
    const warmup = [...new Set(layout.stock.filter((s) => s.onHand > 10).map((s) => zoneOf.get(s.location)))].map((zone) => ({
      sku: layout.stock.find((s) => s.onHand > 10 && zoneOf.get(s.location) === zone)!.sku,
      quantity: 1,
    }));
    expect((await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(orderBody(warmup)) })).status).toBe(201);
    await waitFor('a sample of every inbound message kind', () => (vdaSamples.size === VDA_KINDS.length && wcsSamples.size === WCS_KINDS.length) || undefined, 45_000).catch((err: Error) => {
      throw new Error(`${err.message}; have ${[...vdaSamples.keys(), ...wcsSamples.keys()].join(', ')}`);
    });
    await client.unsubscribeAsync([`${iface}/v2/+/+/+`, `wcs/v1/${site}/+/+/+`]);

    const metrics = () => fetchMetrics(h.baseUrl);
    const publish = async (topic: string, payload: Buffer | string): Promise<void> => {
      await client.publishAsync(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, { qos: 1 });
    };

    // Phase 1: never-valid payloads on the site's own devices' topics, each rejected exactly once.
    const neverValid = fc.oneof(
      randomBytes(),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
      hostileValue().map((v) => JSON.stringify(v) ?? 'null'),
      deepNestingText(),
    );
    const ownTopics = [
      ...VDA_KINDS.map((k) => `${iface}/v2/${amr.manufacturer}/${amr.serialNumber}/${k}`),
      ...WCS_KINDS.flatMap((k) => Object.entries(wcsDevice).map(([cls, id]) => `wcs/v1/${site}/${cls}/${id}/${k}`)),
    ];
    const before1 = await metrics();
    let sent1 = 0;
    for (const topic of ownTopics) {
      const runs = Math.ceil(RUNS_PER_TOPIC / (topic.startsWith('wcs/') ? 3 : 1));
      for (const payload of fc.sample(neverValid, runs)) {
        await publish(topic, payload);
        sent1++;
      }
    }
    const rejected1 = await waitFor('every never-valid message counted', async () => {
      const n = counterSum(await metrics(), REJECTED) - counterSum(before1, REJECTED);
      return n >= sent1 ? n : undefined;
    });
    expect(rejected1, 'each never-valid message rejected once').toBe(sent1);

    // Phase 2: real messages damaged field by field, from ghost devices.
    const ghostVda = (kind: string): Record<string, unknown> => {
      const sample = structuredClone(vdaSamples.get(kind)!);
      sample.serialNumber = GHOST;
      // A ghost must not stand on the route graph: traffic control would keep its node for it.
      if ('lastNodeId' in sample) sample.lastNodeId = `${GHOST}-node`;
      if ('nodeStates' in sample) sample.nodeStates = [];
      if ('edgeStates' in sample) sample.edgeStates = [];
      return sample;
    };
    const ghostWcs = (kind: WcsKind): { deviceClass: string; message: WcsMessages[WcsKind] } => {
      const { deviceClass, bytes } = wcsSamples.get(kind)!;
      const message = decodeWcs(kind, bytes);
      message.header.deviceId = `${GHOST}-${deviceClass}`;
      return { deviceClass, message };
    };
    const before2 = await metrics();
    let sent2 = 0;
    for (const kind of VDA_KINDS) {
      const base = fc.constant(ghostVda(kind));
      const payloads = fc.oneof(
        { arbitrary: mutated(base).map((v) => JSON.stringify(v) ?? 'null'), weight: 4 },
        { arbitrary: mutated(mutated(base)).map((v) => JSON.stringify(v) ?? 'null'), weight: 2 },
        { arbitrary: sameTypeMutated(base).map((v) => JSON.stringify(v) ?? 'null'), weight: 3 },
        { arbitrary: damagedJsonText(base), weight: 2 },
      );
      for (const payload of fc.sample(payloads, RUNS_PER_TOPIC)) {
        await publish(`${iface}/v2/${amr.manufacturer}/${GHOST}/${kind}`, payload);
        sent2++;
      }
    }
    let unencodable = 0;
    for (const kind of WCS_KINDS) {
      const { deviceClass, message } = ghostWcs(kind);
      const encoded = Buffer.from(encodeWcs(kind, message));
      const payloads = fc.oneof(
        {
          arbitrary: sameTypeMutated(fc.constant(message)).map((m) => {
            try {
              return Buffer.from(encodeWcs(kind, m as WcsMessages[WcsKind]));
            } catch {
              // The encoder refuses some values (e.g. a negative uint): send the damage as bytes instead.
              unencodable++;
              return Buffer.concat([encoded, encoded.subarray(0, 3)]);
            }
          }),
          weight: 3,
        },
        { arbitrary: damagedBytes(encoded), weight: 3 },
        { arbitrary: randomBytes(256), weight: 1 },
      );
      for (const payload of fc.sample(payloads, RUNS_PER_TOPIC)) {
        await publish(`wcs/v1/${site}/${deviceClass}/${GHOST}-${deviceClass}/${kind}`, payload);
        sent2++;
      }
    }
    // Everything sent has been handled once it is counted (received or rejected; the site's own
    // devices add to received meanwhile, so that side is a lower bound).
    const after2 = await waitFor('every damaged message handled', async () => {
      const m = await metrics();
      const handled = counterSum(m, REJECTED) + counterSum(m, RECEIVED) - counterSum(before2, REJECTED) - counterSum(before2, RECEIVED);
      return handled >= sent2 ? m : undefined;
    });
    const rejected2 = counterSum(after2, REJECTED) - counterSum(before2, REJECTED);
    expect(rejected2).toBeGreaterThan(0);
    expect(rejected2).toBeLessThanOrEqual(sent2);
    expect(counterSum(after2, REJECTED, { reason: 'internal' }), 'no message made the core fail inside').toBe(0);
    await client.endAsync();

    // The core is healthy and its registry intact: every device of the site, with its class.
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.baseUrl}/readyz`)).status).toBe(200);
    const devicesRes = await h.api('/api/v1/devices');
    expect(devicesRes.status).toBe(200);
    const expectedClasses = new Map<string, string>([
      ...layout.devices.amrs.map((a) => [a.serialNumber, 'amr'] as const),
      ...layout.devices.asrs.map((a) => [a.id, 'asrs'] as const),
      ...layout.devices.conveyors.map((c) => [c.id, 'conveyor'] as const),
      ...layout.devices.arms.map((a) => [a.id, 'arm'] as const),
    ]);
    for (const [id, cls] of expectedClasses) expect(h.core.registry.get(id)?.class, id).toBe(cls);
    for (const d of h.core.registry.list()) {
      expect(typeof d.id).toBe('string');
      expect(['amr', 'asrs', 'conveyor', 'arm']).toContain(d.class);
    }
    // Ghosts that made it into the registry are taken out of service, as an operator would.
    const ghosts = h.core.registry.list().filter((d) => d.id.startsWith(GHOST));
    for (const g of ghosts) {
      const res = await h.api(`/api/v1/devices/${encodeURIComponent(g.id)}/commands`, { method: 'POST', body: JSON.stringify({ type: 'out-of-service' }) });
      expect(res.status, await res.clone().text()).toBe(202);
    }

    const sku = layout.stock.find((s) => s.onHand > 10 && layout.locations.find((l) => l.id === s.location)?.zone === 'amr')!.sku;
    const res = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(orderBody([{ sku, quantity: 1 }])) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor('the order to be picked after the fuzzing', async () => ((await (await h.api(`/api/v1/orders/${id}`)).json()) as { fulfilment: string }).fulfilment === 'PICKED' || undefined, 60_000, 200);

    const byReason = ['decode', 'identity', 'stale', 'topic', 'internal'].map((r) => `${r}=${counterSum(after2, REJECTED, { reason: r }) - counterSum(before2, REJECTED, { reason: r })}`).join(' ');
    console.log(
      `[fuzz-mqtt] topics=${ownTopics.length} own-device never-valid sent=${sent1} rejected=${rejected1}; ghost damaged sent=${sent2} rejected=${rejected2} accepted=${sent2 - rejected2} (${byReason}; ${unencodable} unencodable mutations sent as bytes); ghosts in registry=${ghosts.length}; order ${id} picked afterwards`,
    );
  });
});
