/**
 * Dispatch: turns planned tasks into device commands. A task goes out when its line's previous
 * step has finished, its bin is not in another line's hands, and a reachable device can take it.
 * The command is written to the outbox in the same transaction that marks the task dispatched,
 * so nothing is sent that is not durable and nothing durable is forgotten.
 */
import { encodeVda, encodeWcs, vdaTopic, wcsTopic } from '../../protocols/index.js';
import { buildStepJob, buildTripOrder, planTripRoute } from '../domain/commands.js';
import type { Route } from '../domain/route-graph.js';
import type { TaskRecord } from '../domain/records.js';
import type { AppContext } from './context.js';
import type { DeviceRegistry, DeviceView } from './device-registry.js';
import type { LineService } from './line-service.js';
import type { ReleasePlanner } from './release-planner.js';
import type { TrafficController } from './traffic-controller.js';
import { runInTransaction } from './unit-of-work.js';
import { correlationOf } from './correlation.js';

export interface DispatcherOptions {
  interfaceName: string;
  /** MQTT 5 message expiry on wcs jobs: stale commands die in the broker (DESIGN §2.2). */
  jobExpirySeconds: number;
}

const ACTIVE = ['DISPATCHED', 'RUNNING', 'PAUSED'] as const;
/** How many waiting fixed-equipment steps one pass looks at; the rest wait for the next pass. */
const STEP_WINDOW = 1000;
const MIN_PASS_GAP_MS = 5;

export class Dispatcher {
  private scheduled = false;
  private lastPassAt = 0;
  private stopped = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly lines: LineService,
    private readonly opts: DispatcherOptions,
    private readonly onCommandsQueued: () => void,
    private readonly release?: ReleasePlanner,
    /** Releases a trip's base only onto nodes reserved for its vehicle; without it, all at once. */
    private readonly traffic?: TrafficController,
  ) {}

  /** Asks for a dispatch pass soon; many kicks in one tick make one pass. */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // Under a burst of intake every group commit kicks; a pass every few ms serves them all.
    const wait = this.lastPassAt + MIN_PASS_GAP_MS - this.ctx.clock.now();
    const run = (): void => {
      this.scheduled = false;
      if (this.stopped) return;
      this.lastPassAt = this.ctx.clock.now();
      try {
        this.runOnce();
      } catch (err) {
        this.ctx.logger.error({ err }, 'dispatch pass failed');
      }
    };
    if (wait > 0) this.ctx.clock.setTimer(wait, run);
    else setImmediate(run);
  }

  stop(): void {
    this.stopped = true;
  }

  /** One pass: release what the window allows, then dispatch waiting tasks; returns how many were dispatched. */
  runOnce(): number {
    const released = this.release?.runOnce() ?? 0;
    const dispatched = this.dispatchTrips() + this.dispatchSteps();
    // Hand-overs to other sites are outbox messages too.
    if (dispatched > 0 || released > 0) this.onCommandsQueued();
    return dispatched;
  }

  /** AMR trips, oldest first, each to the nearest free vehicle. Only as many as could go now. */
  private dispatchTrips(): number {
    const vehicles = this.registry.freeVehicles(this.ctx.clock.now()).filter((v) => this.supportsLoadActions(v));
    if (vehicles.length === 0) return 0;
    let dispatched = 0;
    for (const task of this.ctx.store.tasksInStates(['CREATED'], { devices: 'amr', limit: vehicles.length * 4 })) {
      if (vehicles.length === 0) break;
      if (this.dispatchTrip(task, vehicles)) dispatched++;
    }
    return dispatched;
  }

  /**
   * AS/RS, conveyor and arm steps: a step goes when its line's previous step has finished and
   * its bin is not in another line's hands. Devices queue jobs, so only reachability matters.
   */
  private dispatchSteps(): number {
    const { store, clock } = this.ctx;
    const now = clock.now();
    const reachable = this.registry
      .list()
      .filter((d) => d.class !== 'amr' && this.registry.isReachable(d, now))
      .map((d) => d.id);
    if (reachable.length === 0) return 0;
    const ready = store.readySteps(reachable, STEP_WINDOW);
    if (ready.length === 0) return 0;
    // A bin belongs to the line that retrieved it until that line stored it back: any line
    // with a step past its first, or one under way, holds its bin. Ready steps come oldest
    // first and a line's steps share its creation time, so a line already under way is never
    // beyond the window while a newer line for its bin is inside it.
    const binOwner = new Map<string, string>();
    for (const t of store.tasksInStates(ACTIVE, { devices: 'fixed' })) if (t.loadId) binOwner.set(t.loadId, t.lineId);
    for (const t of ready) if (t.loadId && t.step > 0) binOwner.set(t.loadId, t.lineId);
    let dispatched = 0;
    for (const task of ready) {
      const owner = task.loadId ? binOwner.get(task.loadId) : undefined;
      if (owner !== undefined && owner !== task.lineId) continue;
      if (!this.dispatchStep(task, now)) continue;
      dispatched++;
      if (task.loadId) binOwner.set(task.loadId, task.lineId);
    }
    return dispatched;
  }

  private supportsLoadActions(v: DeviceView): boolean {
    // A silent factsheet means standard actions only (DESIGN §2.1), and pick/drop are standard.
    return v.supportedActions.length === 0 || (v.supportedActions.includes('pick') && v.supportedActions.includes('drop'));
  }

  /** Nearest free vehicle by travel time to the pick node. Removes it from `vehicles` when used. */
  private dispatchTrip(task: TaskRecord, vehicles: DeviceView[]): boolean {
    const { graph } = this.ctx;
    let best: { v: DeviceView; route: NonNullable<ReturnType<typeof planTripRoute>> } | undefined;
    for (const v of vehicles) {
      if (task.plan.avoidDevices?.includes(v.id)) continue;
      if (!v.lastNodeId || !graph.has(v.lastNodeId)) continue;
      const route = planTripRoute(graph, v.lastNodeId, task);
      if (route && (!best || route.travelTime < best.route.travelTime)) best = { v, route };
    }
    if (!best) {
      // Placed vehicles exist but none can reach the pick and drop: waiting will not help.
      if (vehicles.some((v) => v.lastNodeId && graph.has(v.lastNodeId))) {
        this.failUnroutable(task, 'no route from any free vehicle to the pick and drop nodes');
      }
      return false;
    }
    const { v, route } = best;
    const releasedUpTo = this.traffic?.startTrip(v, task, route);
    try {
      this.sendTrip(task, v, route, releasedUpTo);
    } catch (err) {
      this.traffic?.abortTrip(v.id, task.id);
      throw err;
    }
    vehicles.splice(vehicles.indexOf(v), 1);
    return true;
  }

  private sendTrip(task: TaskRecord, v: DeviceView, route: Route, releasedUpTo: number | undefined): void {
    const { graph, layout, store, clock } = this.ctx;
    const serialNumber = v.serialNumber ?? v.id;
    const manufacturer = v.manufacturer ?? '';
    const now = clock.now();
    runInTransaction(store, (after) => {
      const order = buildTripOrder({
        header: { headerId: store.nextId(`vda:${serialNumber}:order`), timestamp: new Date(now).toISOString() },
        vehicle: { manufacturer, serialNumber },
        graph,
        mapId: layout.site.mapId,
        task,
        route,
        orderUpdateId: 0,
        ...(releasedUpTo !== undefined ? { releasedUpTo } : {}),
      });
      store.enqueue({
        topic: vdaTopic({ interfaceName: this.opts.interfaceName, manufacturer, serialNumber }, 'order'),
        payload: Buffer.from(encodeVda('order', order)),
        qos: 1,
        retain: false,
        expirySeconds: undefined,
        correlation: correlationOf.vda(serialNumber, order.orderId, order.orderUpdateId),
      });
      // The route is journaled so traffic control can extend the trip after a restart.
      this.markDispatched(task, v.id, { commandId: order.orderId, updateId: 0 }, { routeLength: route.length, travelTime: route.travelTime, nodes: route.nodes.length, route: route.nodes }, after);
    });
  }

  private dispatchStep(task: TaskRecord, now: number): boolean {
    const deviceId = task.plan.deviceId ?? task.deviceId;
    if (!deviceId) return false;
    const device = this.registry.get(deviceId);
    if (!device || !this.registry.isReachable(device, now)) return false;
    const { store } = this.ctx;
    runInTransaction(store, (after) => {
      const job = buildStepJob({
        header: { headerId: store.nextId(`wcs:${deviceId}:job`), timestamp: new Date(now).toISOString() },
        site: this.ctx.siteId,
        task,
        jobUpdateId: 0,
      });
      store.enqueue({
        topic: wcsTopic({ site: this.ctx.siteId, deviceClass: task.deviceClass as 'asrs' | 'conveyor' | 'arm', deviceId }, 'job'),
        payload: Buffer.from(encodeWcs('job', job)),
        qos: 1,
        retain: false,
        expirySeconds: this.opts.jobExpirySeconds,
        correlation: correlationOf.wcs(deviceId, job.jobId, job.jobUpdateId),
      });
      this.markDispatched(task, deviceId, { commandId: job.jobId, updateId: 0 }, { action: job.actions[0]?.actionType }, after);
    });
    return true;
  }

  private markDispatched(
    task: TaskRecord,
    deviceId: string,
    command: { commandId: string; updateId: number },
    data: Record<string, unknown>,
    after: (effect: () => void) => void,
  ): void {
    const { store, clock } = this.ctx;
    const now = clock.now();
    store.updateTask(task.id, { state: 'DISPATCHED', deviceId, progress: { ...task.progress, ...command }, updatedAt: now });
    store.appendEvent({
      type: 'task.dispatched',
      aggregateType: 'task',
      aggregateId: task.id,
      orderId: task.orderId,
      actor: undefined,
      at: now,
      data: { lineId: task.lineId, kind: task.kind, deviceId, ...data },
    });
    after(() => {
      this.registry.assign(deviceId, task.deviceClass === 'amr' ? task.id : undefined);
      this.ctx.notifier.publish({ type: 'task.updated', at: now, data: { id: task.id, state: 'DISPATCHED', deviceId, lineId: task.lineId } });
    });
  }

  private failUnroutable(task: TaskRecord, reason: string): void {
    runInTransaction(this.ctx.store, (after) => {
      this.ctx.store.updateTask(task.id, { state: 'FAILED', progress: { ...task.progress, failure: reason }, updatedAt: this.ctx.clock.now() });
      this.ctx.store.appendEvent({ type: 'task.failed', aggregateType: 'task', aggregateId: task.id, orderId: task.orderId, actor: undefined, data: { reason } });
      const line = this.ctx.store.getLine(task.lineId);
      if (line) this.lines.fail(line, reason, after);
    });
  }
}
