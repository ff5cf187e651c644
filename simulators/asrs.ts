/**
 * A simulated single-aisle AS/RS with one storage/retrieval machine. Jobs are served FIFO;
 * cycle times come from the crane kinematics (travel and lift with acceleration limits, run
 * at the same time, and load/unload time), starting from wherever the machine last stopped.
 *
 * Actions: `retrieve` {binId, locationId, portId} brings a bin to a port (FINISHED once it is
 * on the port); `store` {binId, locationId, portId} takes a bin from a port to its location.
 *
 * Ports hold a few bins each way (PortBuffers, shared with the conveyor that serves them): a
 * retrieval whose port is full waits in front of it with the bin, which counts as blocked.
 */
import type { WcsDevice } from '../devices/index.js';
import type { WcsAction } from '../protocols/index.js';
import type { SiteLayout } from '../src/index.js';
import type { InterruptibleLink } from './interruptible-link.js';
import { craneMoveTime, DEFAULT_CRANE, PORT_POINT, type CraneSpec, type RackPoint } from './kinematics.js';
import { PortBuffers } from './port-buffers.js';
import type { WcsSimOptions } from './wcs-connect.js';
import { PAUSE_ACTIONS, param, type ActionPlan } from './wcs-runner.js';
import { SimulatedWcsDevice } from './wcs-sim-device.js';
import { connectInterruptible } from './wcs-sim-faults.js';

export type AsrsSpec = SiteLayout['devices']['asrs'][number];
type Location = SiteLayout['locations'][number];

export const ASRS_ACTIONS = [
  { actionType: 'retrieve', parameterKeys: ['binId', 'locationId', 'portId'], description: 'bring a bin from its location to a port' },
  { actionType: 'store', parameterKeys: ['binId', 'locationId', 'portId'], description: 'take a bin from a port to its location' },
  ...PAUSE_ACTIONS,
];

export interface AsrsOptions {
  /** The site's port queues, shared with the conveyors; a private unbounded one by default. */
  ports?: PortBuffers;
}

export class SimulatedAsrs extends SimulatedWcsDevice {
  readonly ports: PortBuffers;
  readonly crane: CraneSpec;
  private readonly locations: Map<string, Location>;
  private readonly portIds: Set<string>;
  private shuttle: RackPoint = PORT_POINT;

  private constructor(
    device: WcsDevice,
    spec: AsrsSpec,
    layout: SiteLayout,
    sim: WcsSimOptions,
    link: InterruptibleLink | undefined,
    opts: AsrsOptions,
  ) {
    super(device, sim, link, 'serial', ['breakdown', 'disconnect', 'slowdown']);
    this.crane = { ...DEFAULT_CRANE, ...spec.crane, levelHeight: spec.levelHeight };
    this.locations = new Map(layout.locations.filter((l) => l.asrsId === spec.id).map((l) => [l.id, l]));
    this.portIds = new Set(spec.ports.map((p) => p.id));
    this.ports = opts.ports ?? new PortBuffers(Infinity);
    this.ports.declare([...this.portIds]);
  }

  static async start(spec: AsrsSpec, layout: SiteLayout, sim: WcsSimOptions, opts: AsrsOptions = {}): Promise<SimulatedAsrs> {
    const { device, link } = await connectInterruptible(sim, {
      deviceClass: 'asrs',
      deviceId: spec.id,
      model: 'sim-shuttle-1',
      supportedActions: ASRS_ACTIONS,
      capacities: { aisleLength: spec.aisleLength, levels: spec.levels, levelHeight: spec.levelHeight, ports: spec.ports.length },
    });
    return new SimulatedAsrs(device, spec, layout, sim, link, opts);
  }

  protected plan(action: WcsAction): ActionPlan | { failed: string } {
    if (action.actionType !== 'retrieve' && action.actionType !== 'store') return { failed: `unsupported action type ${action.actionType}` };
    const binId = param(action, 'binId');
    const portId = param(action, 'portId');
    const locationId = param(action, 'locationId');
    const location = this.locations.get(locationId ?? '');
    if (binId === undefined) return { failed: 'binId missing' };
    if (portId === undefined || !this.portIds.has(portId)) return { failed: `unknown portId ${portId ?? '(missing)'}` };
    if (location === undefined) return { failed: `unknown locationId ${locationId ?? '(missing)'}` };
    const target: RackPoint = { position: location.position ?? 0, level: location.level ?? 0 };
    const c = this.crane;
    if (action.actionType === 'retrieve') {
      // To the location, load, to the port; wait there for room; set the bin down.
      return {
        durationMs: (craneMoveTime(this.shuttle, target, c) + c.handlingTime + craneMoveTime(target, PORT_POINT, c)) * 1000,
        gate: (proceed) =>
          this.ports.whenRoom(portId, 'outbound', () => {
            this.ports.put(portId, 'outbound', binId);
            proceed();
          }),
        tailMs: c.handlingTime * 1000,
        result: `bin=${binId} port=${portId}`,
        onDone: () => {
          this.shuttle = PORT_POINT;
        },
      };
    }
    return {
      durationMs: (craneMoveTime(this.shuttle, PORT_POINT, c) + c.handlingTime + craneMoveTime(PORT_POINT, target, c) + c.handlingTime) * 1000,
      result: `bin=${binId} location=${location.id}`,
      onDone: () => {
        this.shuttle = target;
        // Taken from the inbound queue (delivered by the belt) or, if it came by hand, from the outbound one.
        if (!this.ports.take(portId, 'inbound', binId)) this.ports.take(portId, 'outbound', binId);
      },
    };
  }

  protected telemetry(): void {
    const r = this.runner;
    const loads = [...this.portIds].flatMap((port) => [...this.ports.bins(port, 'outbound'), ...this.ports.bins(port, 'inbound')].map((bin) => ({ loadId: bin, locationId: port, position: 0 })));
    this.device
      .publishTelemetry({
        deviceState: r.isHalted ? 'FAULT' : r.isPaused ? 'PAUSED' : r.runningCount > 0 ? 'BUSY' : 'IDLE',
        metrics: { queueLength: r.queueLength, completed: r.completed, failed: r.failed, shuttlePosition: this.shuttle.position, shuttleLevel: this.shuttle.level, blocked: r.gatedCount, speedFactor: r.speedFactor },
        loads,
      })
      .catch(() => undefined);
  }
}
