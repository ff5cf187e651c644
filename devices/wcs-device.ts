/**
 * Device side of wcs/v1 for AS/RS, conveyors and arm stations. It owns everything the protocol
 * demands of a device (presence with last will, factsheet, job idempotency, jobState echoes,
 * headers) so a controller only says what it is doing: `setActionStatus`, `reportError`,
 * `publishTelemetry`.
 */
import {
  WCS_VERSION,
  coreStateTopic,
  decodeCorePresence,
  decodeWcs,
  encodeWcs,
  wcsTopic,
  type ActionStatus,
  type WcsActionState,
  type WcsError,
  type WcsHeader,
  type WcsInstantActions,
  type WcsJob,
  type WcsJobState,
  type WcsSupportedAction,
  type WcsTelemetry,
  type WcsTopicName,
} from '../protocols/index.js';
import { CLOSE_ANNOUNCE_MS, linkFrom, withinMs, type DeviceLink, type LastWill, type PublishOptions } from './link.js';

export type WcsDeviceClass = 'asrs' | 'conveyor' | 'arm';

export interface WcsDeviceOptions {
  /** A ready link (in-memory, or one built with `WcsDevice.lastWill`); otherwise `url` is dialled. */
  link?: DeviceLink;
  url?: string;
  site: string;
  deviceClass: WcsDeviceClass;
  deviceId: string;
  manufacturer: string;
  model: string;
  supportedActions: WcsSupportedAction[];
  capacities?: Record<string, number>;
  now?: () => number;
  username?: string;
  password?: string;
}

export interface WcsDeviceStats {
  jobsAccepted: number;
  duplicateJobs: number;
  rejectedJobs: number;
  badMessages: number;
  publishFailures: number;
}

interface JobRecord {
  job: WcsJob;
  actionStates: WcsActionState[];
  errors: WcsError[];
}

/** How many finished jobs are remembered so that late duplicates are still recognised. */
const FINISHED_JOBS_KEPT = 100;
/** Errors kept per job; older ones are dropped so a misbehaving sender cannot grow the state. */
const ERRORS_KEPT = 10;

const isTerminal = (s: ActionStatus): boolean => s === 'FINISHED' || s === 'FAILED';

export class WcsDevice {
  readonly site: string;
  readonly deviceClass: WcsDeviceClass;
  readonly deviceId: string;
  readonly stats: WcsDeviceStats = { jobsAccepted: 0, duplicateJobs: 0, rejectedJobs: 0, badMessages: 0, publishFailures: 0 };
  private readonly opts: WcsDeviceOptions;
  private readonly now: () => number;
  private readonly headerIds = new Map<WcsTopicName, number>();
  private readonly jobs = new Map<string, JobRecord>();
  private readonly jobHandlers: ((job: WcsJob, isUpdate: boolean) => void)[] = [];
  private readonly instantHandlers: ((msg: WcsInstantActions) => void)[] = [];
  private readonly coreHandlers: (() => void)[] = [];
  private link: DeviceLink | undefined;
  private paused = false;
  private closed = false;
  private online = false;

  private constructor(opts: WcsDeviceOptions) {
    this.opts = opts;
    this.site = opts.site;
    this.deviceClass = opts.deviceClass;
    this.deviceId = opts.deviceId;
    this.now = opts.now ?? Date.now;
  }

  /** The last will a link for this device must carry (CONNECTIONBROKEN, retained, QoS 1). */
  static lastWill(opts: Pick<WcsDeviceOptions, 'site' | 'deviceClass' | 'deviceId' | 'now'>): LastWill {
    const header: WcsHeader = { headerId: 0, timestamp: new Date((opts.now ?? Date.now)()).toISOString(), version: WCS_VERSION, site: opts.site, deviceId: opts.deviceId };
    return {
      topic: wcsTopic({ site: opts.site, deviceClass: opts.deviceClass, deviceId: opts.deviceId }, 'connection'),
      payload: encodeWcs('connection', { header, connectionState: 'CONNECTIONBROKEN' }),
      qos: 1,
      retain: true,
    };
  }

  static async connect(opts: WcsDeviceOptions): Promise<WcsDevice> {
    const device = new WcsDevice(opts);
    const link = await linkFrom(opts, `${opts.site}-${opts.deviceClass}-${opts.deviceId}`, WcsDevice.lastWill(opts));
    await device.attach(link);
    return device;
  }

  /** Whether the core's retained presence says it is up. */
  get coreOnline(): boolean {
    return this.online;
  }

  /** Ids of the jobs whose actions are not all finished or failed, oldest first. */
  get activeJobIds(): string[] {
    return [...this.jobs.values()].filter((r) => !r.actionStates.every((a) => isTerminal(a.actionStatus))).map((r) => r.job.jobId);
  }

  /** New jobs and accepted updates (higher jobUpdateId) only; duplicates are answered here. */
  onJob(handler: (job: WcsJob, isUpdate: boolean) => void): void {
    this.jobHandlers.push(handler);
  }

  /** Instant actions other than `stateRequest` and `factsheetRequest`, which are answered here. */
  onInstantActions(handler: (msg: WcsInstantActions) => void): void {
    this.instantHandlers.push(handler);
  }

  /** Called whenever the core comes (back) online, after current job states were re-sent. */
  onCoreOnline(handler: () => void): void {
    this.coreHandlers.push(handler);
  }

  /** Current state of a job as the device would publish it (a copy). */
  jobState(jobId: string): WcsJobState | undefined {
    const record = this.jobs.get(jobId);
    return record === undefined ? undefined : this.buildJobState(record, false);
  }

  async setActionStatus(jobId: string, actionId: string, status: ActionStatus, resultDescription?: string): Promise<void> {
    const record = this.jobs.get(jobId);
    const state = record?.actionStates.find((a) => a.actionId === actionId);
    if (record === undefined || state === undefined) throw new RangeError(`unknown action ${actionId} of job ${jobId}`);
    state.actionStatus = status;
    if (resultDescription === undefined) delete state.resultDescription;
    else state.resultDescription = resultDescription;
    await this.publishJobState(jobId);
    if (isTerminal(status)) this.forgetOldJobs();
  }

  async reportError(jobId: string, error: WcsError): Promise<void> {
    const record = this.jobs.get(jobId);
    if (record === undefined) throw new RangeError(`unknown job ${jobId}`);
    this.addError(record, error);
    await this.publishJobState(jobId);
  }

  async clearErrors(jobId: string): Promise<void> {
    const record = this.jobs.get(jobId);
    if (record === undefined) throw new RangeError(`unknown job ${jobId}`);
    record.errors = [];
    await this.publishJobState(jobId);
  }

  /** Marks the device paused (e.g. after a pause instant action) in every active job state. */
  async setPaused(paused: boolean): Promise<void> {
    this.paused = paused;
    await Promise.all(this.activeJobIds.map((id) => this.publishJobState(id)));
  }

  async publishJobState(jobId: string): Promise<void> {
    const record = this.jobs.get(jobId);
    if (record === undefined) throw new RangeError(`unknown job ${jobId}`);
    await this.send('jobState', encodeWcs('jobState', this.buildJobState(record, true)), { qos: 1 });
  }

  async publishTelemetry(t: Omit<WcsTelemetry, 'header'>): Promise<void> {
    await this.send('telemetry', encodeWcs('telemetry', { header: this.header('telemetry'), ...t }), { qos: 0 });
  }

  async publishFactsheet(): Promise<void> {
    const o = this.opts;
    const msg = { header: this.header('factsheet'), deviceClass: o.deviceClass, manufacturer: o.manufacturer, model: o.model, supportedActions: o.supportedActions, capacities: o.capacities ?? {} };
    await this.send('factsheet', encodeWcs('factsheet', msg), { qos: 1, retain: true });
  }

  /** Graceful close announces OFFLINE; a non-graceful one leaves the broker to send the will. */
  async close(graceful = true): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const link = this.link;
    if (link === undefined) return;
    // OFFLINE only when it can be delivered, and not at any price: the broker may be gone.
    if (graceful && link.connected) await withinMs(this.publishConnection('OFFLINE'), CLOSE_ANNOUNCE_MS);
    await link.close(!graceful);
  }

  private async attach(link: DeviceLink): Promise<void> {
    this.link = link;
    link.onMessage((topic, payload) => this.dispatch(topic, payload));
    link.onConnect(() => {
      // After a reconnect the broker may have published our will; announce again and resync.
      void this.announce()
        .then(() => Promise.all(this.activeJobIds.map((id) => this.publishJobState(id))))
        .catch(() => undefined);
    });
    await link.subscribe([this.topic('job'), this.topic('instantActions'), coreStateTopic(this.site)], 1);
    await this.announce();
  }

  private async announce(): Promise<void> {
    await this.publishConnection('ONLINE');
    await this.publishFactsheet();
  }

  private async publishConnection(state: 'ONLINE' | 'OFFLINE'): Promise<void> {
    await this.send('connection', encodeWcs('connection', { header: this.header('connection'), connectionState: state }), { qos: 1, retain: true });
  }

  private dispatch(topic: string, payload: Buffer): void {
    if (this.closed) return;
    if (topic === this.topic('job')) this.handleJob(payload);
    else if (topic === this.topic('instantActions')) this.handleInstantActions(payload);
    else if (topic === coreStateTopic(this.site)) this.handleCorePresence(payload);
  }

  private handleJob(payload: Buffer): void {
    let job: WcsJob;
    try {
      job = decodeWcs('job', payload);
    } catch {
      this.stats.badMessages++;
      return;
    }
    const known = this.jobs.get(job.jobId);
    if (known !== undefined && job.jobUpdateId === known.job.jobUpdateId) {
      // The core resends until it sees an echo; answering with the state is the echo.
      this.stats.duplicateJobs++;
      this.fireAndForget(this.publishJobState(job.jobId));
      return;
    }
    if (known !== undefined && job.jobUpdateId < known.job.jobUpdateId) {
      this.stats.rejectedJobs++;
      this.addError(known, {
        errorType: 'jobUpdateError',
        errorLevel: 'WARNING',
        errorDescription: `jobUpdateId ${job.jobUpdateId} is older than the current ${known.job.jobUpdateId}`,
        errorReferences: [
          { referenceKey: 'jobId', referenceValue: job.jobId },
          { referenceKey: 'jobUpdateId', referenceValue: String(job.jobUpdateId) },
        ],
      });
      this.fireAndForget(this.publishJobState(job.jobId));
      return;
    }
    const previous = new Map((known?.actionStates ?? []).map((a) => [a.actionId, a]));
    const record: JobRecord = {
      job,
      // An update keeps the progress of actions it repeats; new actions start WAITING.
      actionStates: job.actions.map((a) => previous.get(a.actionId) ?? { actionId: a.actionId, actionType: a.actionType, actionStatus: 'WAITING' }),
      errors: known?.errors ?? [],
    };
    this.jobs.delete(job.jobId); // re-insert so that map order is recency order
    this.jobs.set(job.jobId, record);
    this.stats.jobsAccepted++;
    this.fireAndForget(this.publishJobState(job.jobId));
    for (const h of this.jobHandlers) h(job, known !== undefined);
  }

  private handleInstantActions(payload: Buffer): void {
    let msg: WcsInstantActions;
    try {
      msg = decodeWcs('instantActions', payload);
    } catch {
      this.stats.badMessages++;
      return;
    }
    const rest = msg.actions.filter((a) => {
      if (a.actionType === 'stateRequest') {
        for (const id of this.jobs.keys()) this.fireAndForget(this.publishJobState(id));
        return false;
      }
      if (a.actionType === 'factsheetRequest') {
        this.fireAndForget(this.publishFactsheet());
        return false;
      }
      return true;
    });
    if (rest.length === 0) return;
    for (const h of this.instantHandlers) h({ ...msg, actions: rest });
  }

  private handleCorePresence(payload: Buffer): void {
    let online: boolean;
    try {
      online = decodeCorePresence(payload).online;
    } catch {
      this.stats.badMessages++;
      return;
    }
    const cameUp = online && !this.online;
    this.online = online;
    if (!cameUp) return;
    // A restarted core rebuilds its view from our echoes, so give it the current states.
    for (const id of this.activeJobIds) this.fireAndForget(this.publishJobState(id));
    for (const h of this.coreHandlers) h();
  }

  private buildJobState(record: JobRecord, stamp: boolean): WcsJobState {
    return {
      header: stamp ? this.header('jobState') : { headerId: this.headerIds.get('jobState') ?? 0, timestamp: new Date(this.now()).toISOString(), version: WCS_VERSION, site: this.site, deviceId: this.deviceId },
      jobId: record.job.jobId,
      jobUpdateId: record.job.jobUpdateId,
      actionStates: record.actionStates.map((a) => ({ ...a })),
      errors: record.errors.map((e) => ({ ...e, errorReferences: e.errorReferences.map((r) => ({ ...r })) })),
      paused: this.paused,
    };
  }

  private addError(record: JobRecord, error: WcsError): void {
    record.errors.push(error);
    if (record.errors.length > ERRORS_KEPT) record.errors.splice(0, record.errors.length - ERRORS_KEPT);
  }

  private forgetOldJobs(): void {
    const finished = [...this.jobs.values()].filter((r) => r.actionStates.every((a) => isTerminal(a.actionStatus)));
    for (const r of finished.slice(0, Math.max(0, finished.length - FINISHED_JOBS_KEPT))) this.jobs.delete(r.job.jobId);
  }

  private header(topic: WcsTopicName): WcsHeader {
    const headerId = (this.headerIds.get(topic) ?? 0) + 1;
    this.headerIds.set(topic, headerId);
    return { headerId, timestamp: new Date(this.now()).toISOString(), version: WCS_VERSION, site: this.site, deviceId: this.deviceId };
  }

  private topic(name: WcsTopicName): string {
    return wcsTopic({ site: this.site, deviceClass: this.deviceClass, deviceId: this.deviceId }, name);
  }

  private async send(name: WcsTopicName, payload: Uint8Array, opts: PublishOptions): Promise<void> {
    if (this.link === undefined) throw new Error('not connected');
    try {
      await this.link.publish(this.topic(name), payload, opts);
    } catch (err) {
      this.stats.publishFailures++;
      throw err;
    }
  }

  private fireAndForget(p: Promise<unknown>): void {
    // Failures are already counted in stats.publishFailures; the link retries on reconnect.
    p.catch(() => undefined);
  }
}
