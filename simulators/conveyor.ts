/**
 * A simulated conveyor (loop or line). `transport` {loadId, from, to} carries a tote at belt
 * speed along the belt from one stop to another; many totes ride at once. Accumulation and
 * merge gaps are not modelled yet: totes do not block each other.
 */
import type { WcsDevice } from '../devices/index.js';
import type { WcsAction } from '../protocols/index.js';
import type { SiteLayout } from '../src/index.js';
import { beltDistance } from './kinematics.js';
import { connectWcsDevice, type WcsSimOptions } from './wcs-connect.js';
import { every, PAUSE_ACTIONS, param, WcsActionRunner, type ActionPlan } from './wcs-runner.js';

export type ConveyorSpec = SiteLayout['devices']['conveyors'][number];

export const CONVEYOR_ACTIONS = [{ actionType: 'transport', parameterKeys: ['loadId', 'from', 'to'], description: 'carry a tote from one stop to another' }, ...PAUSE_ACTIONS];

export class SimulatedConveyor {
  readonly runner: WcsActionRunner;
  private readonly stops: Map<string, number>;
  private readonly stopTelemetry: () => void;

  private constructor(
    readonly device: WcsDevice,
    private readonly spec: ConveyorSpec,
    sim: WcsSimOptions,
  ) {
    this.stops = new Map(spec.stops.map((s) => [s.id, s.at]));
    this.runner = new WcsActionRunner(device, sim.clock, 'parallel', (_jobId, action) => this.plan(action));
    this.stopTelemetry = every(sim.clock, sim.telemetryMs ?? 1000, () => this.telemetry());
  }

  static async start(spec: ConveyorSpec, sim: WcsSimOptions): Promise<SimulatedConveyor> {
    const device = await connectWcsDevice(sim, {
      deviceClass: 'conveyor',
      deviceId: spec.id,
      model: `sim-${spec.kind}-conveyor`,
      supportedActions: CONVEYOR_ACTIONS,
      capacities: { length: spec.length, speed: spec.speed, stops: spec.stops.length },
    });
    return new SimulatedConveyor(device, spec, sim);
  }

  async stop(graceful = true): Promise<void> {
    this.stopTelemetry();
    this.runner.stop();
    await this.device.close(graceful);
  }

  /** A fault to inject: a tote jams the belt; everything on it stops until `clearJam()`. */
  jam(): void {
    this.runner.halt();
    this.telemetry();
  }

  clearJam(): void {
    this.runner.restart();
    this.telemetry();
  }

  private plan(action: WcsAction): ActionPlan | { failed: string } {
    if (action.actionType !== 'transport') return { failed: `unsupported action type ${action.actionType}` };
    const loadId = param(action, 'loadId');
    const from = param(action, 'from');
    const to = param(action, 'to');
    const fromAt = this.stops.get(from ?? '');
    const toAt = this.stops.get(to ?? '');
    if (loadId === undefined) return { failed: 'loadId missing' };
    if (fromAt === undefined) return { failed: `unknown stop ${from ?? '(missing from)'}` };
    if (toAt === undefined) return { failed: `unknown stop ${to ?? '(missing to)'}` };
    if (from === to) return { failed: 'from and to are the same stop' };
    if (this.spec.kind === 'line' && toAt < fromAt) return { failed: `a line conveyor cannot carry from ${from ?? ''} back to ${to ?? ''}` };
    const metres = beltDistance(fromAt, toAt, this.spec.length, this.spec.kind);
    return { durationMs: (metres / this.spec.speed) * 1000, result: `load=${loadId} at=${to ?? ''}` };
  }

  private telemetry(): void {
    const r = this.runner;
    const moving = r.inProgress.map(({ action, progress }) => {
      const fromAt = this.stops.get(param(action, 'from') ?? '') ?? 0;
      const toAt = this.stops.get(param(action, 'to') ?? '') ?? 0;
      const along = fromAt + beltDistance(fromAt, toAt, this.spec.length, this.spec.kind) * progress;
      return { loadId: param(action, 'loadId') ?? '', locationId: this.spec.id, position: this.spec.kind === 'loop' ? along % this.spec.length : along };
    });
    this.device
      .publishTelemetry({
        // A jam is a fault of the belt, reported as such even while paused by command.
        deviceState: r.isHalted ? 'FAULT' : r.isPaused ? 'PAUSED' : moving.length > 0 ? 'BUSY' : 'IDLE',
        metrics: { loadsOnBelt: moving.length, completed: r.completed, failed: r.failed, jammed: r.isHalted ? 1 : 0 },
        loads: moving,
      })
      .catch(() => undefined);
  }
}
