/**
 * wcs/v1 conformance of an AS/RS, conveyor or arm station, judged on the wire (DESIGN.md §2.2):
 * retained `connection` ONLINE with a CONNECTIONBROKEN last will, a retained factsheet of the
 * right class that declares the actions used, job acceptance echoed in `jobState` with jobId
 * and jobUpdateId, action progress that never goes back, a repeated (jobId, jobUpdateId)
 * re-echoed and a lower jobUpdateId refused, `cancelJob` and `stateRequest` honoured, telemetry
 * that decodes, headerId increasing per topic, ISO timestamps, and garbage survived.
 */
import { WCS_VERSION, decodeWcs, encodeWcs, wcsTopic, type ActionStatus, type WcsDeviceClass, type WcsJob, type WcsJobState, type WcsTopicName } from '../../protocols/index.js';
import { expectThat, increasing, isIsoTimestamp, sleep, type ConformanceCheck, type ConformanceSuite } from './checks.js';
import { retainedOn } from './probe.js';
import { DeviceSuiteRunner, type DeviceUnderTest } from './runner.js';

/** One action of a test job: its type and parameters (ids are made up by the suite). */
export interface WcsTestAction {
  actionType: string;
  parameters: Record<string, string>;
}

export interface WcsDeviceTarget extends DeviceUnderTest {
  site: string;
  deviceClass: WcsDeviceClass;
  deviceId: string;
  /** A job the device completes on its own within `jobTimeoutMs`. */
  job: WcsTestAction[];
  /** A job that runs for several seconds, long enough to be canceled while it runs. */
  longJob: WcsTestAction[];
  /** Longest wait for `job` to finish (60 s by default). */
  jobTimeoutMs?: number;
}

const TOPICS: WcsTopicName[] = ['jobState', 'telemetry', 'connection', 'factsheet'];
const RANK: Record<ActionStatus, number> = { WAITING: 0, INITIALIZING: 1, RUNNING: 2, PAUSED: 2, FINISHED: 3, FAILED: 3 };
const terminal = (s: ActionStatus): boolean => s === 'FINISHED' || s === 'FAILED';

export function wcsConformanceSuite(t: WcsDeviceTarget): ConformanceSuite {
  const addr = { site: t.site, deviceClass: t.deviceClass, deviceId: t.deviceId };
  const topic = (name: WcsTopicName): string => wcsTopic(addr, name);
  const runner = new DeviceSuiteRunner(t);
  const { broker, p, timeout } = runner;
  const run = Math.random().toString(36).slice(2, 8);
  let headerId = 0;
  const header = (): WcsJob['header'] => ({ headerId: ++headerId, timestamp: new Date().toISOString(), version: WCS_VERSION, site: t.site, deviceId: t.deviceId });
  const jobOf = (jobId: string, jobUpdateId: number, actions: WcsTestAction[]): WcsJob => ({
    header: header(),
    jobId,
    jobUpdateId,
    actions: actions.map((a, i) => ({ actionId: `${jobId}-a${i}`, actionType: a.actionType, blockingType: 'HARD', actionParameters: Object.entries(a.parameters).map(([key, value]) => ({ key, value })) })),
  });
  const send = (job: WcsJob): Promise<void> => p().publish(topic('job'), encodeWcs('job', job));
  const instant = (actionType: string, params: Record<string, string> = {}): Promise<void> =>
    p().publish(
      topic('instantActions'),
      encodeWcs('instantActions', { header: header(), actions: [{ actionId: `cf-${run}-${actionType}-${headerId}`, actionType, blockingType: 'NONE', actionParameters: Object.entries(params).map(([key, value]) => ({ key, value })) }] }),
    );
  const jobStates = (jobId?: string): WcsJobState[] => p().on(topic('jobState')).map((m) => decodeWcs('jobState', m.payload)).filter((s) => jobId === undefined || s.jobId === jobId);
  const stateWhere = async (what: string, pred: (s: WcsJobState) => boolean, ms = timeout, since = 0): Promise<WcsJobState> =>
    decodeWcs('jobState', (await p().waitFor(topic('jobState'), what, (b) => pred(decodeWcs('jobState', b)), ms, since)).payload);

  const job = jobOf(`cf-${run}-job`, 0, t.job);
  const long = jobOf(`cf-${run}-long`, 1, t.longJob);

  const checks: ConformanceCheck[] = [
    {
      id: 'wcs.connection.online',
      rule: 'connection is published retained, QoS 1, ONLINE, with a header naming site and device (DESIGN.md §2.2)',
      run: async () => {
        const payload = await retainedOn(broker, topic('connection'), timeout);
        expectThat(payload !== undefined, 'no retained connection message');
        const c = decodeWcs('connection', payload);
        expectThat(c.connectionState === 'ONLINE', `retained connectionState is ${c.connectionState}, expected ONLINE`);
        expectThat(c.header.site === t.site && c.header.deviceId === t.deviceId, `header names ${c.header.site}/${c.header.deviceId}`);
        expectThat(isIsoTimestamp(c.header.timestamp), `timestamp ${c.header.timestamp} is not ISO 8601`);
      },
    },
    {
      id: 'wcs.factsheet',
      rule: 'a factsheet is published retained, of the device class, declaring the actions the jobs use',
      run: async () => {
        const payload = await retainedOn(broker, topic('factsheet'), timeout);
        expectThat(payload !== undefined, 'no retained factsheet');
        const f = decodeWcs('factsheet', payload);
        expectThat(f.deviceClass === t.deviceClass, `factsheet class ${f.deviceClass}, expected ${t.deviceClass}`);
        const declared = new Set(f.supportedActions.map((a) => a.actionType));
        for (const a of [...t.job, ...t.longJob]) expectThat(declared.has(a.actionType), `factsheet does not declare ${a.actionType}`);
      },
    },
    {
      id: 'wcs.job.accept',
      rule: 'a job is accepted by a jobState echoing jobId and jobUpdateId with one actionState per action',
      run: async () => {
        await send(job);
        const s = await stateWhere('the job echo', (x) => x.jobId === job.jobId && x.jobUpdateId === 0);
        const ids = job.actions.map((a) => a.actionId).sort();
        expectThat(JSON.stringify(s.actionStates.map((a) => a.actionId).sort()) === JSON.stringify(ids), `actionStates ${JSON.stringify(s.actionStates.map((a) => a.actionId))} do not match the job's actions`);
        expectThat(s.errors.length === 0, `accepted job carries errors ${JSON.stringify(s.errors)}`);
      },
    },
    {
      id: 'wcs.job.progress',
      rule: 'jobState reports every action through WAITING/INITIALIZING/RUNNING to FINISHED, never going back',
      run: async () => {
        await stateWhere('all actions FINISHED', (x) => x.jobId === job.jobId && x.actionStates.every((a) => a.actionStatus === 'FINISHED'), t.jobTimeoutMs ?? 60_000);
        for (const action of job.actions) {
          const seen = jobStates(job.jobId).map((s) => s.actionStates.find((a) => a.actionId === action.actionId)?.actionStatus ?? 'WAITING');
          const ranks = seen.map((s) => RANK[s]);
          expectThat(ranks.every((r, i) => i === 0 || r >= (ranks[i - 1] as number)), `${action.actionId} went back: ${seen.join(' -> ')}`);
          expectThat(seen.includes('RUNNING') || seen.includes('INITIALIZING'), `${action.actionId} finished without being reported running: ${seen.join(' -> ')}`);
        }
      },
    },
    {
      id: 'wcs.job.duplicate',
      rule: 'the same (jobId, jobUpdateId) again is answered with the current state, not run again',
      run: async () => {
        const since = Date.now();
        await send(job);
        const s = await stateWhere('the re-echo', (x) => x.jobId === job.jobId, timeout, since);
        expectThat(s.jobUpdateId === 0 && s.actionStates.every((a) => a.actionStatus === 'FINISHED'), `re-echo shows ${JSON.stringify(s.actionStates)}`);
        expectThat(s.errors.length === 0, `duplicate produced errors ${JSON.stringify(s.errors)}`);
      },
    },
    {
      id: 'wcs.job.update.stale',
      rule: 'a lower jobUpdateId is refused: jobState keeps the current jobUpdateId and carries a jobUpdateError',
      run: async () => {
        await send(long);
        await stateWhere('the long job echo', (x) => x.jobId === long.jobId && x.jobUpdateId === 1);
        await send({ ...long, header: header(), jobUpdateId: 0 });
        const s = await stateWhere('jobUpdateError', (x) => x.jobId === long.jobId && x.errors.some((e) => e.errorType === 'jobUpdateError'));
        expectThat(s.jobUpdateId === 1, `jobState moved to jobUpdateId ${s.jobUpdateId}`);
      },
    },
    {
      id: 'wcs.cancelJob',
      rule: 'instant action cancelJob {jobId} stops the job: its unfinished actions end FAILED',
      run: async () => {
        const before = jobStates(long.jobId).at(-1);
        expectThat(before !== undefined && !before.actionStates.every((a) => terminal(a.actionStatus)), 'the long job finished before it could be canceled; make it longer');
        await instant('cancelJob', { jobId: long.jobId });
        const s = await stateWhere('the canceled job', (x) => x.jobId === long.jobId && x.actionStates.every((a) => terminal(a.actionStatus)));
        expectThat(s.actionStates.some((a) => a.actionStatus === 'FAILED'), 'cancel left no action FAILED');
      },
    },
    {
      id: 'wcs.stateRequest',
      rule: 'instant action stateRequest re-sends the state of the jobs the device knows',
      run: async () => {
        const since = Date.now();
        const waiting = stateWhere('a jobState after stateRequest', (x) => x.jobId === job.jobId, timeout, since);
        await instant('stateRequest');
        await waiting;
      },
    },
    {
      id: 'wcs.telemetry',
      rule: 'telemetry decodes with the wcs/v1 codec and names the device',
      run: async () => {
        const m = await p().waitFor(topic('telemetry'), 'telemetry', () => true, Math.max(timeout, 5000));
        const tel = decodeWcs('telemetry', m.payload);
        expectThat(tel.header.deviceId === t.deviceId, `telemetry names ${tel.header.deviceId}`);
        expectThat(['IDLE', 'BUSY', 'PAUSED', 'FAULT', 'OFFLINE'].includes(tel.deviceState), `deviceState ${tel.deviceState}`);
      },
    },
    {
      id: 'wcs.garbage',
      rule: 'garbage on the job topic never crashes the device: it still answers stateRequest',
      run: async () => {
        await p().publish(topic('job'), Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02]));
        await sleep(100);
        const since = Date.now();
        const waiting = stateWhere('a jobState after garbage', () => true, timeout, since);
        await instant('stateRequest');
        await waiting;
      },
    },
    {
      id: 'wcs.header.ids',
      rule: 'headerId increases with every message, per topic (jobState, telemetry)',
      run: async () => {
        for (const name of ['jobState', 'telemetry'] as const) {
          const ids = p().on(topic(name)).map((m) => decodeWcs(name, m.payload).header.headerId);
          expectThat(increasing(ids), `${name} headerIds do not increase: ${ids.slice(0, 40).join(',')}`);
        }
      },
    },
    {
      id: 'wcs.timestamps',
      rule: 'every message carries an ISO 8601 timestamp, the version 1.x, and this site and device',
      run: async () => {
        for (const m of p().messages) {
          if (m.payload.length === 0) continue;
          const name = m.topic.slice(m.topic.lastIndexOf('/') + 1) as WcsTopicName;
          const h = decodeWcs(name, m.payload).header;
          expectThat(isIsoTimestamp(h.timestamp), `${name} timestamp ${h.timestamp} is not ISO 8601`);
          expectThat(h.version.startsWith('1.'), `${name} version ${h.version}`);
          expectThat(h.site === t.site && h.deviceId === t.deviceId, `${name} header names ${h.site}/${h.deviceId}`);
        }
      },
    },
  ];
  checks.push(
    ...runner.lifecycleChecks({
      prefix: 'wcs',
      connectionTopic: topic('connection'),
      connectionState: (b) => decodeWcs('connection', b).connectionState,
      reconnect: { rule: 'coming back, the device announces ONLINE again (retained) and its factsheet', topic: topic('factsheet'), what: 'a factsheet after reconnect' },
    }),
  );

  return runner.suite(`wcs/v1 ${t.deviceClass} ${t.site}/${t.deviceId}`, TOPICS.map(topic), checks);
}
