/**
 * A simulated conveyor (loop or line, with optional divert and merge spurs). `transport`
 * {loadId, from, to} carries a tote from one stop to another through the belt model in
 * ./belt.ts: belt speed, accumulation at tote pitch, merge gaps and divert decisions, so totes
 * do block each other and a busy belt shows it. FINISHED when the tote has reached its stop
 * (for an AS/RS port: is in the port's inbound queue).
 *
 * Faults: `jam()` / `clearJam()` (or a seeded `jam` fault) stop the whole belt and report
 * deviceState FAULT; a breakdown does the same; a slowdown runs the belt slower.
 * `blockStop(stop)` / `unblockStop(stop)` jam one stop's infeed while the belt runs: each job
 * carrying a tote there reports a `stopBlocked` WARNING naming the stop, and the master control
 * may re-route the tote with a job update whose transport has another `to` (accepted while the
 * tote is still on the main belt; otherwise a `jobUpdateError` and the tote keeps its stop).
 */
import type { WcsDevice } from '../devices/index.js';
import type { WcsAction } from '../protocols/index.js';
import type { SiteLayout } from '../src/index.js';
import { Belt, type Tote } from './belt.js';
import type { SimClock } from './clock.js';
import type { InterruptibleLink } from './interruptible-link.js';
import type { PortBuffers } from './port-buffers.js';
import type { UtilizationState } from './utilization.js';
import type { WcsSimOptions } from './wcs-connect.js';
import { PAUSE_ACTIONS, param, type ActionPlan } from './wcs-runner.js';
import { SimulatedWcsDevice } from './wcs-sim-device.js';
import { connectInterruptible } from './wcs-sim-faults.js';

/** Error type of a job whose tote cannot be delivered because its stop's infeed is blocked. */
export const STOP_BLOCKED = 'stopBlocked';

export type ConveyorSpec = SiteLayout['devices']['conveyors'][number];

export const CONVEYOR_ACTIONS = [{ actionType: 'transport', parameterKeys: ['loadId', 'from', 'to'], description: 'carry a tote from one stop to another' }, ...PAUSE_ACTIONS];

export interface ConveyorOptions {
  /** The site's AS/RS port queues: totes leaving a port free it, totes for a port wait for room. */
  ports?: PortBuffers;
}

interface Carried {
  jobId: string;
  tote: Tote;
  finish: (result?: string) => void;
  /** Taken off its origin (an AS/RS port's outbound queue is freed). */
  left: boolean;
}

export class SimulatedConveyor extends SimulatedWcsDevice {
  readonly belt: Belt;
  private readonly clock: SimClock;
  private readonly ports: PortBuffers | undefined;
  private readonly carried = new Map<Tote, Carried>();
  /** Belt time at `baseAt`, and how fast it runs now (0 when stopped). */
  private baseBt = 0;
  private baseAt: number;
  private rate = 1;
  private cancelWake: (() => void) | undefined;
  private readonly portWaits = new Map<string, () => void>();

  private constructor(
    device: WcsDevice,
    private readonly spec: ConveyorSpec,
    sim: WcsSimOptions,
    link: InterruptibleLink | undefined,
    opts: ConveyorOptions,
  ) {
    super(device, sim, link, 'parallel', ['breakdown', 'jam', 'disconnect', 'slowdown']);
    this.clock = sim.clock;
    this.ports = opts.ports;
    this.baseAt = sim.clock.now();
    this.belt = new Belt(spec);
    this.runner.onChange(() => this.setRate(this.runner.isFrozen ? 0 : this.runner.speedFactor));
  }

  static async start(spec: ConveyorSpec, sim: WcsSimOptions, opts: ConveyorOptions = {}): Promise<SimulatedConveyor> {
    const { device, link } = await connectInterruptible(sim, {
      deviceClass: 'conveyor',
      deviceId: spec.id,
      model: `sim-${spec.kind}-conveyor`,
      supportedActions: CONVEYOR_ACTIONS,
      capacities: { length: spec.length, speed: spec.speed, stops: spec.stops.length, pitch: spec.pitch ?? 1 },
    });
    return new SimulatedConveyor(device, spec, sim, link, opts);
  }

  protected override beforeStop(): void {
    this.cancelWake?.();
    for (const cancel of this.portWaits.values()) cancel();
  }

  /** A fault to inject: a tote jams the belt; everything on it stops until `clearJam()`. */
  jam(): void {
    this.faults.injectFault({ kind: 'jam', durationMs: Infinity });
  }

  clearJam(): void {
    this.faults.endFault('jam');
  }

  /** Jams the infeed of one stop (see the file comment); the belt keeps running. */
  blockStop(stop: string): void {
    this.belt.setBlocked(stop, true);
    for (const c of this.carried.values()) if (c.tote.to === stop) this.reportBlocked(c);
    this.wake();
  }

  unblockStop(stop: string): void {
    this.belt.setBlocked(stop, false);
    for (const c of this.carried.values()) if (c.tote.to === stop) this.device.clearErrors(c.jobId).catch(() => undefined);
    this.wake();
  }

  private reportBlocked(c: Carried): void {
    this.device
      .reportError(c.jobId, {
        errorType: STOP_BLOCKED,
        errorLevel: 'WARNING',
        errorDescription: `the infeed of ${c.tote.to} is blocked; ${c.tote.loadId} cannot be delivered there`,
        errorReferences: [
          { referenceKey: 'jobId', referenceValue: c.jobId },
          { referenceKey: 'stopId', referenceValue: c.tote.to },
        ],
      })
      .catch(() => undefined);
  }

  /** A job update of a running transport: a new `to` re-routes the tote if it still can go. */
  private retarget(c: Carried, action: WcsAction): string | undefined {
    const to = param(action, 'to');
    if (param(action, 'loadId') !== c.tote.loadId || param(action, 'from') !== c.tote.from) return 'an update may change only where the tote goes';
    if (to === undefined) return 'unknown stop (missing to)';
    const wasBlocked = this.belt.isBlocked(c.tote.to);
    const refusal = this.belt.retarget(c.tote, to);
    if (refusal !== undefined) return refusal;
    if (wasBlocked) this.device.clearErrors(c.jobId).catch(() => undefined);
    if (this.belt.isBlocked(to)) this.reportBlocked(c);
    this.wake();
    return undefined;
  }

  protected plan(action: WcsAction, jobId: string): ActionPlan | { failed: string } {
    if (action.actionType !== 'transport') return { failed: `unsupported action type ${action.actionType}` };
    const loadId = param(action, 'loadId');
    const from = param(action, 'from');
    const to = param(action, 'to');
    if (loadId === undefined) return { failed: 'loadId missing' };
    if (from === undefined) return { failed: 'unknown stop (missing from)' };
    if (to === undefined) return { failed: 'unknown stop (missing to)' };
    const problem = this.belt.problem(from, to);
    if (problem !== undefined) return { failed: problem };
    let carried: Carried | undefined;
    return {
      drive: (finish) => {
        const tote = this.belt.add(loadId, from, to);
        carried = { jobId, tote, finish, left: false };
        this.carried.set(tote, carried);
        if (this.belt.isBlocked(to)) this.reportBlocked(carried);
        this.wake();
        return () => {
          this.carried.delete(tote);
          this.belt.remove(tote);
          this.wake();
        };
      },
      update: (next) => (carried === undefined ? undefined : this.retarget(carried, next)),
    };
  }

  /** Belt time now. */
  private bt(): number {
    return this.baseBt + ((this.clock.now() - this.baseAt) / 1000) * this.rate;
  }

  private setRate(rate: number): void {
    if (rate === this.rate) return this.faults.mark();
    this.baseBt = this.bt();
    this.baseAt = this.clock.now();
    this.rate = rate;
    this.wake();
  }

  /** Moves what can move now and sets a timer for the next thing that may become possible. */
  private wake(): void {
    this.cancelWake?.();
    this.cancelWake = undefined;
    if (this.rate > 0) {
      const bt = this.bt();
      const delivered = this.belt.step(bt, (tote) => this.deliver(tote));
      for (const c of this.carried.values()) {
        if (c.left || c.tote.queued) continue;
        c.left = true;
        if (this.ports !== undefined && this.isPort(c.tote.from)) this.ports.take(c.tote.from, 'outbound', c.tote.loadId);
      }
      for (const tote of delivered) {
        const c = this.carried.get(tote);
        this.carried.delete(tote);
        c?.finish(`load=${tote.loadId} at=${tote.to}`);
      }
      const next = this.belt.nextEvent(bt);
      if (next !== undefined) this.cancelWake = this.clock.setTimer(() => this.wake(), ((next - bt) / this.rate) * 1000);
    }
    this.faults.mark();
  }

  /** Hands a tote to its stop; an AS/RS port takes it only with room in its inbound queue. */
  private deliver(tote: Tote): boolean {
    if (this.ports === undefined || !this.isPort(tote.to)) return true;
    if (this.ports.put(tote.to, 'inbound', tote.loadId)) return true;
    if (!this.portWaits.has(tote.to)) {
      this.portWaits.set(
        tote.to,
        this.ports.whenRoom(tote.to, 'inbound', () => {
          this.portWaits.delete(tote.to);
          this.clock.setTimer(() => this.wake(), 0);
        }),
      );
    }
    return false;
  }

  private isPort(stop: string): boolean {
    return this.ports?.isPort(stop) ?? false;
  }

  protected override utilizationState(): UtilizationState {
    if (this.carried.size === 0) return 'idle';
    if (this.rate === 0) return 'blocked';
    const bt = this.bt();
    for (const { tote } of this.carried.values()) if (this.belt.isMoving(tote, bt)) return 'busy';
    return 'blocked';
  }

  protected telemetry(): void {
    const r = this.runner;
    const bt = this.bt();
    const loads = [...this.carried.values()].map(({ tote }) => ({ loadId: tote.loadId, locationId: this.spec.id, position: this.belt.positionOf(tote, bt) }));
    this.device
      .publishTelemetry({
        // A jam is a fault of the belt, reported as such even while paused by command.
        deviceState: r.isHalted ? 'FAULT' : r.isPaused ? 'PAUSED' : loads.length > 0 ? 'BUSY' : 'IDLE',
        metrics: {
          loadsOnBelt: this.belt.totesOnBelt,
          waitingToEnter: this.belt.queuedCount,
          completed: r.completed,
          failed: r.failed,
          jammed: this.faults.state.has('jam') ? 1 : 0,
          recirculations: this.belt.recirculations,
          speedFactor: r.speedFactor,
        },
        loads,
      })
      .catch(() => undefined);
  }
}
