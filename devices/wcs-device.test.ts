import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WCS_VERSION, coreStateTopic, decodeWcs, encodeCorePresence, encodeWcs, wcsTopic, type WcsJob } from '../protocols/index.js';
import { connectMqttLink } from './link.js';
import { startTestBroker, connectRecorder, type Recorder, type TestBroker } from './test-broker.js';
import { WcsDevice } from './wcs-device.js';

const site = 'test';
const addr = { site, deviceClass: 'asrs' as const, deviceId: 'asrs-9' };
const topic = (t: Parameters<typeof wcsTopic>[1]): string => wcsTopic(addr, t);

function job(jobId: string, jobUpdateId: number, actionIds = ['a1']): WcsJob {
  return {
    header: { headerId: 1, timestamp: new Date().toISOString(), version: WCS_VERSION, site, deviceId: addr.deviceId },
    jobId,
    jobUpdateId,
    actions: actionIds.map((actionId) => ({ actionId, actionType: 'retrieve', blockingType: 'HARD', actionParameters: [{ key: 'binId', value: 'BIN-1' }] })),
  };
}

describe('WcsDevice', () => {
  let broker: TestBroker;
  let core: Recorder;
  let device: WcsDevice;
  const received: { jobId: string; isUpdate: boolean }[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    core = await connectRecorder(broker.url, [topic('jobState'), topic('connection'), topic('factsheet'), topic('telemetry')]);
    device = await WcsDevice.connect({
      url: broker.url,
      ...addr,
      manufacturer: 'acme',
      model: 'shuttle-1',
      supportedActions: [{ actionType: 'retrieve', parameterKeys: ['binId'] }],
      capacities: { levels: 6 },
    });
    device.onJob((j, isUpdate) => received.push({ jobId: j.jobId, isUpdate }));
  });

  afterAll(async () => {
    await device.close();
    await core.close();
    await broker.close();
  });

  it('announces itself ONLINE and publishes its factsheet, both retained', async () => {
    const conn = decodeWcs('connection', await core.waitFor(topic('connection')));
    expect(conn.connectionState).toBe('ONLINE');
    const fs = decodeWcs('factsheet', await core.waitFor(topic('factsheet')));
    expect(fs).toMatchObject({ deviceClass: 'asrs', manufacturer: 'acme', model: 'shuttle-1', capacities: { levels: 6 } });
    expect(fs.supportedActions[0]?.actionType).toBe('retrieve');
  });

  it('accepts a job, echoes it with WAITING actions, and reports progress', async () => {
    await core.client.publishAsync(topic('job'), Buffer.from(encodeWcs('job', job('j1', 0))), { qos: 1 });
    const echo = decodeWcs('jobState', await core.waitFor(topic('jobState'), (p) => decodeWcs('jobState', p).jobId === 'j1'));
    expect(echo.actionStates).toEqual([{ actionId: 'a1', actionType: 'retrieve', actionStatus: 'WAITING' }]);
    expect(received).toEqual([{ jobId: 'j1', isUpdate: false }]);
    await device.setActionStatus('j1', 'a1', 'FINISHED', 'done');
    const done = decodeWcs('jobState', await core.waitFor(topic('jobState'), (p) => decodeWcs('jobState', p).actionStates[0]?.actionStatus === 'FINISHED'));
    expect(done.actionStates[0]?.resultDescription).toBe('done');
    expect(done.header.headerId).toBeGreaterThan(echo.header.headerId);
  });

  it('does not pass a repeated (jobId, jobUpdateId) to the handler but re-echoes its state', async () => {
    core.clear();
    await core.client.publishAsync(topic('job'), Buffer.from(encodeWcs('job', job('j1', 0))), { qos: 1 });
    const echo = decodeWcs('jobState', await core.waitFor(topic('jobState')));
    expect(echo.jobId).toBe('j1');
    expect(echo.actionStates[0]?.actionStatus).toBe('FINISHED');
    expect(received).toHaveLength(1);
    expect(device.stats.duplicateJobs).toBe(1);
  });

  it('accepts a higher jobUpdateId as an update and rejects a lower one with jobUpdateError', async () => {
    await core.client.publishAsync(topic('job'), Buffer.from(encodeWcs('job', job('j2', 3))), { qos: 1 });
    await core.client.publishAsync(topic('job'), Buffer.from(encodeWcs('job', job('j2', 4, ['a1', 'a2']))), { qos: 1 });
    await core.waitFor(topic('jobState'), (p) => decodeWcs('jobState', p).jobUpdateId === 4);
    expect(received.slice(1)).toEqual([{ jobId: 'j2', isUpdate: false }, { jobId: 'j2', isUpdate: true }]);
    core.clear();
    await core.client.publishAsync(topic('job'), Buffer.from(encodeWcs('job', job('j2', 2))), { qos: 1 });
    const rejected = decodeWcs('jobState', await core.waitFor(topic('jobState'), (p) => decodeWcs('jobState', p).errors.length > 0));
    expect(rejected.jobUpdateId).toBe(4);
    expect(rejected.errors[0]).toMatchObject({
      errorType: 'jobUpdateError',
      errorLevel: 'WARNING',
      errorReferences: [
        { referenceKey: 'jobId', referenceValue: 'j2' },
        { referenceKey: 'jobUpdateId', referenceValue: '2' },
      ],
    });
    expect(received).toHaveLength(3);
  });

  it('counts and drops undecodable jobs', async () => {
    const before = device.stats.badMessages;
    await core.client.publishAsync(topic('job'), Buffer.from([0xff, 0xff, 0xff, 0x01]), { qos: 1 });
    await expect.poll(() => device.stats.badMessages).toBe(before + 1);
  });

  it('re-sends active job states when the core comes online', async () => {
    let calls = 0;
    device.onCoreOnline(() => calls++);
    core.clear();
    await core.client.publishAsync(coreStateTopic(site), encodeCorePresence({ online: true, timestamp: new Date().toISOString(), coreId: 'c1', version: '0.1.0' }), { qos: 1, retain: true });
    const resync = decodeWcs('jobState', await core.waitFor(topic('jobState')));
    expect(resync.jobId).toBe('j2');
    expect(device.coreOnline).toBe(true);
    expect(calls).toBe(1);
  });

  it('publishes telemetry', async () => {
    await device.publishTelemetry({ deviceState: 'IDLE', metrics: { queueLength: 0 }, loads: [] });
    const t = decodeWcs('telemetry', await core.waitFor(topic('telemetry')));
    expect(t).toMatchObject({ deviceState: 'IDLE', metrics: { queueLength: 0 } });
  });

  it('leaves CONNECTIONBROKEN as its last will when the socket dies', async () => {
    const other = { site, deviceClass: 'arm' as const, deviceId: 'arm-9' };
    const connTopic = wcsTopic(other, 'connection');
    await core.client.subscribeAsync(connTopic, { qos: 1 });
    const link = await connectMqttLink({ url: broker.url, clientId: 'arm-9', will: WcsDevice.lastWill(other), reconnectPeriod: 0 });
    const arm = await WcsDevice.connect({ link, ...other, manufacturer: 'acme', model: 'arm', supportedActions: [] });
    await core.waitFor(connTopic, (p) => decodeWcs('connection', p).connectionState === 'ONLINE');
    broker.kill('arm-9');
    const will = await core.waitFor(connTopic, (p) => decodeWcs('connection', p).connectionState === 'CONNECTIONBROKEN');
    expect(decodeWcs('connection', will).header.deviceId).toBe('arm-9');
    await arm.close(false);
  });
});
