/**
 * A simulated single-aisle AS/RS with one storage/retrieval machine. Jobs are served FIFO;
 * cycle times come from the crane kinematics (travel and lift with acceleration limits,
 * load/unload time), starting from wherever the machine last stopped.
 *
 * Actions: `retrieve` {binId, locationId, portId} brings a bin to a port (FINISHED once it is
 * on the port); `store` {binId, locationId, portId} takes a bin from a port to its location.
 */
import type { WcsDevice } from '../devices/index.js';
import type { WcsAction } from '../protocols/index.js';
import type { SiteLayout } from '../src/index.js';
import { DEFAULT_CRANE, PORT_POINT, retrieveTime, storeTime, type CraneSpec, type RackPoint } from './kinematics.js';
import { connectWcsDevice, type WcsSimOptions } from './wcs-connect.js';
import { every, PAUSE_ACTIONS, param, WcsActionRunner, type ActionPlan } from './wcs-runner.js';

export type AsrsSpec = SiteLayout['devices']['asrs'][number];
type Location = SiteLayout['locations'][number];

export const ASRS_ACTIONS = [
  { actionType: 'retrieve', parameterKeys: ['binId', 'locationId', 'portId'], description: 'bring a bin from its location to a port' },
  { actionType: 'store', parameterKeys: ['binId', 'locationId', 'portId'], description: 'take a bin from a port to its location' },
  ...PAUSE_ACTIONS,
];

export class SimulatedAsrs {
  readonly runner: WcsActionRunner;
  private readonly crane: CraneSpec;
  private readonly locations: Map<string, Location>;
  private readonly ports: Set<string>;
  private shuttle: RackPoint = PORT_POINT;
  /** Bins standing on each port as far as this device knows (the conveyor may take them away). */
  private readonly portLoads = new Map<string, string>();
  private readonly stopTelemetry: () => void;

  private constructor(
    readonly device: WcsDevice,
    spec: AsrsSpec,
    layout: SiteLayout,
    sim: WcsSimOptions,
  ) {
    this.crane = { ...DEFAULT_CRANE, levelHeight: spec.levelHeight };
    this.locations = new Map(layout.locations.filter((l) => l.asrsId === spec.id).map((l) => [l.id, l]));
    this.ports = new Set(spec.ports.map((p) => p.id));
    this.runner = new WcsActionRunner(device, sim.clock, 'serial', (_jobId, action) => this.plan(action));
    this.stopTelemetry = every(sim.clock, sim.telemetryMs ?? 1000, () => this.telemetry());
  }

  static async start(spec: AsrsSpec, layout: SiteLayout, sim: WcsSimOptions): Promise<SimulatedAsrs> {
    const device = await connectWcsDevice(sim, {
      deviceClass: 'asrs',
      deviceId: spec.id,
      model: 'sim-shuttle-1',
      supportedActions: ASRS_ACTIONS,
      capacities: { aisleLength: spec.aisleLength, levels: spec.levels, levelHeight: spec.levelHeight, ports: spec.ports.length },
    });
    return new SimulatedAsrs(device, spec, layout, sim);
  }

  async stop(graceful = true): Promise<void> {
    this.stopTelemetry();
    this.runner.stop();
    await this.device.close(graceful);
  }

  private plan(action: WcsAction): ActionPlan | { failed: string } {
    if (action.actionType !== 'retrieve' && action.actionType !== 'store') return { failed: `unsupported action type ${action.actionType}` };
    const binId = param(action, 'binId');
    const portId = param(action, 'portId');
    const locationId = param(action, 'locationId');
    const location = this.locations.get(locationId ?? '');
    if (binId === undefined) return { failed: 'binId missing' };
    if (portId === undefined || !this.ports.has(portId)) return { failed: `unknown portId ${portId ?? '(missing)'}` };
    if (location === undefined) return { failed: `unknown locationId ${locationId ?? '(missing)'}` };
    const target: RackPoint = { position: location.position ?? 0, level: location.level ?? 0 };
    if (action.actionType === 'retrieve') {
      return {
        durationMs: retrieveTime(this.shuttle, target, this.crane) * 1000,
        result: `bin=${binId} port=${portId}`,
        onDone: () => {
          this.shuttle = PORT_POINT;
          this.portLoads.set(portId, binId);
        },
      };
    }
    return {
      durationMs: storeTime(this.shuttle, target, this.crane) * 1000,
      result: `bin=${binId} location=${location.id}`,
      onDone: () => {
        this.shuttle = target;
        if (this.portLoads.get(portId) === binId) this.portLoads.delete(portId);
      },
    };
  }

  private telemetry(): void {
    const r = this.runner;
    this.device
      .publishTelemetry({
        deviceState: r.isPaused ? 'PAUSED' : r.inProgress.length > 0 ? 'BUSY' : 'IDLE',
        metrics: { queueLength: r.queueLength, completed: r.completed, failed: r.failed, shuttlePosition: this.shuttle.position, shuttleLevel: this.shuttle.level },
        loads: [...this.portLoads].map(([port, bin]) => ({ loadId: bin, locationId: port, position: 0 })),
      })
      .catch(() => undefined);
  }
}
