/**
 * Re-routing totes between arm stations (issue "Execution" item 6: a jam re-routes totes where
 * a route exists; a faulted device's tasks go elsewhere). An AS/RS line's bin rides the conveyor
 * to one arm station, the arm picks from it, and it rides back to its port. When the way into
 * that station is blocked (the conveyor reports `stopBlocked` on the tote's job) or the station's
 * arm is down (unreachable, faulted, out of service), a bin still on its way goes to another arm
 * station on the same conveyor instead: a CREATED transport is simply re-planned, a running one
 * gets a wcs job update with the new `to`, and the line's pick and return steps follow.
 *
 * What the conveyor finally reports decides: its FINISHED result names the stop it delivered to
 * (`at=`), and the pick and return steps are aligned to that stop before task progress moves
 * the line on — so a refused update (the bin already in its station's spur) changes nothing.
 * Each re-route leaves a handled exception record and a `task.rerouted` journal entry.
 */
import { encodeWcs, wcsTopic, type WcsJobState } from '../../protocols/index.js';
import { actionIdOf, buildStepJob } from '../domain/commands.js';
import { currentPlan } from '../domain/execution-plan.js';
import type { ExceptionType, TaskRecord, TaskState } from '../domain/records.js';
import { alternativeStation, armOfStation, deliveredAt } from '../domain/station-choice.js';
import type { AppContext } from './context.js';
import { correlationOf } from './correlation.js';
import type { DeviceRegistry, DeviceView } from './device-registry.js';
import type { AfterCommit } from './line-service.js';
import { CORE_ACTOR, type ExceptionService } from './exception-service.js';
import { runInTransaction } from './unit-of-work.js';

/** The conveyor's error for a tote whose stop cannot take it (simulators/conveyor.ts speaks it too). */
export const STOP_BLOCKED_ERROR = 'stopBlocked';

export interface StationRerouteOptions {
  /** MQTT 5 message expiry on the job update, as on every wcs job. */
  jobExpirySeconds: number;
  /** Commands were written to the outbox: drain it. */
  onCommandsQueued(): void;
}

const ON_THE_WAY: readonly TaskState[] = ['CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED'];
/** Tasks already told there is nowhere else to go, so the sweep does not say it again. */
const STRANDED_KEPT = 10_000;

type Why = { kind: 'stop-blocked'; conveyorId: string } | { kind: 'arm-down'; armId: string; state: string };

export class StationReroute {
  private readonly stranded = new Set<string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly exceptions: ExceptionService,
    private readonly opts: StationRerouteOptions,
  ) {}

  /** Every wcs job state, before task progress sees it. */
  onWcsJobState(deviceId: string, s: WcsJobState): void {
    const blocked = s.errors.find((e) => e.errorType === STOP_BLOCKED_ERROR);
    const action = s.actionStates.find((a) => a.actionStatus === 'FINISHED');
    if ((!blocked && !action) || this.registry.get(deviceId)?.class !== 'conveyor') return;
    const task = this.ctx.store.getTask(s.jobId);
    if (!task || task.kind !== 'conveyor.toStation' || task.deviceId !== deviceId) return;
    const own = s.actionStates.find((a) => a.actionId === actionIdOf.wcs(task.id));
    if (own?.actionStatus === 'FINISHED') {
      this.followDelivery(task, deliveredAt(own.resultDescription));
      return;
    }
    const stop = blocked?.errorReferences.find((r) => r.referenceKey === 'stopId')?.referenceValue;
    // Only the stop the bin is meant for now: older states still name the one it left.
    if (stop !== undefined && stop === task.plan.stationId && s.jobUpdateId >= (task.progress.updateId ?? 0)) {
      this.reroute(task, { kind: 'stop-blocked', conveyorId: deviceId });
    }
  }

  /** Periodic: bins on their way to a station whose arm is down go elsewhere. */
  sweep(): void {
    const now = this.ctx.clock.now();
    const down = new Map<string, { armId: string; state: string }>();
    for (const st of this.ctx.layout.stations) {
      if (st.kind !== 'arm' || st.armId === undefined) continue;
      const arm = this.registry.get(st.armId);
      const state = arm ? this.downState(arm, now) : undefined;
      if (state !== undefined) down.set(st.id, { armId: st.armId, state });
    }
    if (down.size === 0) return;
    for (const task of this.ctx.store.tasksInStates(ON_THE_WAY, { devices: 'fixed' })) {
      if (task.kind !== 'conveyor.toStation' || this.stranded.has(task.id)) continue;
      const arm = task.plan.stationId === undefined ? undefined : down.get(task.plan.stationId);
      if (arm) this.reroute(task, { kind: 'arm-down', ...arm });
    }
  }

  /** Why an arm that has spoken cannot work now, or undefined (one not heard from yet is not "down"). */
  private downState(arm: DeviceView, now: number): string | undefined {
    if (arm.outOfService) return 'out of service';
    if (arm.deviceState === 'FAULT') return 'faulted';
    if (arm.connection === 'OFFLINE' || arm.connection === 'CONNECTIONBROKEN') return `unreachable (${arm.connection.toLowerCase()})`;
    if (arm.lastSeenAt !== undefined && !this.registry.isReachable(arm, now)) return 'unreachable (silent)';
    return undefined;
  }

  private armWorks(armId: string, now: number): boolean {
    const arm = this.registry.get(armId);
    return arm !== undefined && this.registry.isReachable(arm, now) && this.downState(arm, now) === undefined && !arm.paused;
  }

  private reroute(transport: TaskRecord, why: Why): void {
    const { store, clock, layout } = this.ctx;
    const from = transport.plan.stationId;
    const steps = currentPlan(store.tasksOfLine(transport.lineId));
    const pick = steps.find((t) => t.kind === 'arm.pick');
    const back = steps.find((t) => t.kind === 'conveyor.toPort');
    if (from === undefined || transport.deviceId === undefined || pick?.state !== 'CREATED') return;
    const now = clock.now();
    const load = this.stationLoads();
    const to = alternativeStation(layout, { conveyorId: transport.deviceId, avoid: from, armWorks: (a) => this.armWorks(a, now), load: (st) => load.get(st) ?? 0 });
    const type: ExceptionType = why.kind === 'stop-blocked' ? 'conveyor-jam' : 'device-unreachable';
    const cause = why.kind === 'stop-blocked' ? `${why.conveyorId} cannot deliver ${transport.loadId ?? 'the bin'} to ${from}: its infeed is blocked` : `${why.armId} at ${from} is ${why.state}`;
    if (!to) {
      if (this.stranded.has(transport.id)) return;
      if (this.stranded.size >= STRANDED_KEPT) this.stranded.clear();
      this.stranded.add(transport.id);
      runInTransaction(store, (after) =>
        this.raise(type, transport, why, `${cause}; no other arm station on ${transport.deviceId} can take it`, ['the bin waits for its station: no other route'], 'open', after),
      );
      return;
    }
    runInTransaction(store, (after) => {
      const plan = { ...transport.plan, stationId: to.stationId };
      if (transport.state === 'CREATED') {
        store.updateTask(transport.id, { plan, updatedAt: now });
      } else {
        const updateId = (transport.progress.updateId ?? 0) + 1;
        this.enqueueUpdate({ ...transport, plan }, updateId);
        store.updateTask(transport.id, { plan, progress: { ...transport.progress, updateId }, updatedAt: now });
      }
      this.moveFollowers(pick, back, to.stationId, to.armId, now);
      store.appendEvent({
        type: 'task.rerouted',
        aggregateType: 'task',
        aggregateId: transport.id,
        orderId: transport.orderId,
        actor: undefined,
        data: { lineId: transport.lineId, from, to: to.stationId, arm: to.armId, reason: why.kind, sent: transport.state !== 'CREATED' },
      });
      const how = transport.state === 'CREATED' ? 're-planned' : 're-routed (job update sent)';
      this.raise(type, transport, why, cause, [`${how} ${transport.loadId ?? 'the bin'} from ${from} to ${to.stationId}; the pick moves to ${to.armId}`], 'handled', after);
      after(() => this.opts.onCommandsQueued());
    });
  }

  /**
   * The conveyor delivered the bin: the pick and the way back start from where it really is
   * (a re-route the conveyor could not honour leaves it at the old station).
   */
  private followDelivery(transport: TaskRecord, at: string | undefined): void {
    if (at === undefined) return;
    const armId = armOfStation(this.ctx.layout, at);
    if (armId === undefined) return;
    const steps = currentPlan(this.ctx.store.tasksOfLine(transport.lineId));
    const pick = steps.find((t) => t.kind === 'arm.pick');
    const back = steps.find((t) => t.kind === 'conveyor.toPort');
    if (pick?.state !== 'CREATED' || pick.plan.stationId === at) return;
    const now = this.ctx.clock.now();
    runInTransaction(this.ctx.store, () => {
      this.moveFollowers(pick, back, at, armId, now);
      this.ctx.store.appendEvent({
        type: 'task.rerouted',
        aggregateType: 'task',
        aggregateId: transport.id,
        orderId: transport.orderId,
        actor: undefined,
        data: { lineId: transport.lineId, from: pick.plan.stationId ?? null, to: at, arm: armId, reason: 'delivered-there', sent: false },
      });
    });
  }

  private moveFollowers(pick: TaskRecord, back: TaskRecord | undefined, stationId: string, armId: string, now: number): void {
    this.ctx.store.updateTask(pick.id, { plan: { ...pick.plan, stationId, deviceId: armId }, deviceId: armId, updatedAt: now });
    if (back?.state === 'CREATED') this.ctx.store.updateTask(back.id, { plan: { ...back.plan, stationId }, updatedAt: now });
  }

  private enqueueUpdate(transport: TaskRecord, jobUpdateId: number): void {
    const { store, clock, siteId } = this.ctx;
    const deviceId = transport.deviceId as string;
    const job = buildStepJob({ header: { headerId: store.nextId(`wcs:${deviceId}:job`), timestamp: new Date(clock.now()).toISOString() }, site: siteId, task: transport, jobUpdateId });
    store.enqueue({
      topic: wcsTopic({ site: siteId, deviceClass: 'conveyor', deviceId }, 'job'),
      payload: Buffer.from(encodeWcs('job', job)),
      qos: 1,
      retain: false,
      expirySeconds: this.opts.jobExpirySeconds,
      correlation: correlationOf.wcs(deviceId, job.jobId, jobUpdateId),
    });
  }

  /** Bins on their way to each station now. */
  private stationLoads(): Map<string, number> {
    const load = new Map<string, number>();
    for (const t of this.ctx.store.tasksInStates(['DISPATCHED', 'RUNNING', 'PAUSED'], { devices: 'fixed' })) {
      if (t.kind === 'conveyor.toStation' && t.plan.stationId !== undefined) load.set(t.plan.stationId, (load.get(t.plan.stationId) ?? 0) + 1);
    }
    return load;
  }

  private raise(type: ExceptionType, transport: TaskRecord, why: Why, summary: string, actions: string[], status: 'open' | 'handled', after: AfterCommit): void {
    this.exceptions.raise(
      {
        type,
        status,
        orderId: transport.orderId,
        lineId: transport.lineId,
        taskId: transport.id,
        deviceId: why.kind === 'stop-blocked' ? why.conveyorId : why.armId,
        summary,
        detail: { station: transport.plan.stationId ?? null, binId: transport.loadId ?? null, reason: why.kind, by: CORE_ACTOR },
        actions,
      },
      after,
    );
  }
}
