/**
 * The suite itself: it must tell a broken device from a good one. A hand-rolled device that
 * announces itself properly but never progresses a job, repeats its headerId and ignores
 * stateRequest fails exactly those checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { WCS_VERSION, decodeWcs, encodeWcs, wcsTopic } from '../../protocols/index.js';
import { startTestBroker, type TestBroker } from '../test-broker.js';
import { isIsoTimestamp, increasing } from './checks.js';
import { runSuite, wcsConformanceSuite } from './index.js';

const addr = { site: 's1', deviceClass: 'arm' as const, deviceId: 'lazy-arm' };
const header = { headerId: 1, timestamp: new Date(0).toISOString(), version: WCS_VERSION, site: addr.site, deviceId: addr.deviceId };

/** Announces itself correctly, then echoes every job once as WAITING, always with headerId 1. */
async function lazyDevice(url: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    clientId: 'lazy-arm',
    will: { topic: wcsTopic(addr, 'connection'), payload: Buffer.from(encodeWcs('connection', { header, connectionState: 'CONNECTIONBROKEN' })), qos: 1, retain: true },
  });
  await client.publishAsync(wcsTopic(addr, 'connection'), Buffer.from(encodeWcs('connection', { header, connectionState: 'ONLINE' })), { qos: 1, retain: true });
  await client.publishAsync(
    wcsTopic(addr, 'factsheet'),
    Buffer.from(encodeWcs('factsheet', { header, deviceClass: 'arm', manufacturer: 'lazy', model: 'l1', supportedActions: [{ actionType: 'pick', parameterKeys: [] }], capacities: {} })),
    { qos: 1, retain: true },
  );
  await client.subscribeAsync([wcsTopic(addr, 'job'), wcsTopic(addr, 'instantActions')], { qos: 1 });
  client.on('message', (topic, payload) => {
    if (topic !== wcsTopic(addr, 'job')) return;
    let job;
    try {
      job = decodeWcs('job', payload);
    } catch {
      return; // the suite's garbage check: a lazy device at least survives it
    }
    const state = { header, jobId: job.jobId, jobUpdateId: job.jobUpdateId, actionStates: job.actions.map((a) => ({ actionId: a.actionId, actionType: a.actionType, actionStatus: 'WAITING' as const })), errors: [], paused: false };
    void client.publishAsync(wcsTopic(addr, 'jobState'), Buffer.from(encodeWcs('jobState', state)), { qos: 1 });
  });
  return client;
}

describe('conformance suite', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker.close();
  });

  it('fails a device that never progresses, repeats headerIds and ignores stateRequest', async () => {
    let device: MqttClient | undefined;
    const pick = [{ actionType: 'pick', parameters: { sku: 'A', quantity: '1' } }];
    const results = await runSuite(
      wcsConformanceSuite({
        url: broker.url,
        ...addr,
        job: pick,
        longJob: pick,
        timeoutMs: 400,
        jobTimeoutMs: 400,
        start: async () => {
          device = await lazyDevice(broker.url);
        },
        stop: async () => {
          await device?.endAsync(true);
        },
      }),
    );
    const verdict = Object.fromEntries(results.map((r) => [r.id, r.passed]));
    expect(verdict).toMatchObject({
      'wcs.connection.online': true,
      'wcs.factsheet': true,
      'wcs.job.accept': true,
      'wcs.job.progress': false,
      'wcs.job.duplicate': false,
      'wcs.job.update.stale': false,
      'wcs.stateRequest': false,
      'wcs.telemetry': false,
      'wcs.header.ids': false,
      'wcs.timestamps': true,
      // The lazy device never announces OFFLINE on a graceful stop.
      'wcs.close.offline': false,
    });
    expect(results.find((r) => r.id === 'wcs.job.progress')?.error).toMatch(/all actions FINISHED/);
  }, 30_000);

  it('judges timestamps and header ids', () => {
    expect(isIsoTimestamp('2025-01-02T03:04:05.678Z')).toBe(true);
    expect(isIsoTimestamp('2025-01-02T03:04:05+01:00')).toBe(true);
    expect(isIsoTimestamp('2025-01-02 03:04:05')).toBe(false);
    expect(isIsoTimestamp(1735787045000)).toBe(false);
    expect(increasing([1, 2, 5])).toBe(true);
    expect(increasing([1, 1])).toBe(false);
  });
});
