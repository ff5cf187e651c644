/**
 * A simulated robot-arm pick station. `pick` {sku, quantity, sourceLoadId, targetLoadId} moves
 * `quantity` pieces from the source tote to the target tote at `pickTime` seconds per piece;
 * one pick at a time. FINISHED carries `picked=<n>` so the core can book exactly what moved.
 */
import type { WcsDevice } from '../devices/index.js';
import type { WcsAction } from '../protocols/index.js';
import type { SiteLayout } from '../src/index.js';
import { connectWcsDevice, type WcsSimOptions } from './wcs-connect.js';
import { every, PAUSE_ACTIONS, param, WcsActionRunner, type ActionPlan } from './wcs-runner.js';

export type ArmSpec = SiteLayout['devices']['arms'][number];

export const ARM_ACTIONS = [
  { actionType: 'pick', parameterKeys: ['sku', 'quantity', 'sourceLoadId', 'targetLoadId'], description: 'move pieces from the source tote to the target tote' },
  ...PAUSE_ACTIONS,
];

export class SimulatedArm {
  readonly runner: WcsActionRunner;
  unitsPicked = 0;
  private readonly stopTelemetry: () => void;

  private constructor(
    readonly device: WcsDevice,
    private readonly spec: ArmSpec,
    sim: WcsSimOptions,
  ) {
    this.runner = new WcsActionRunner(device, sim.clock, 'serial', (_jobId, action) => this.plan(action));
    this.stopTelemetry = every(sim.clock, sim.telemetryMs ?? 1000, () => this.telemetry());
  }

  static async start(spec: ArmSpec, sim: WcsSimOptions): Promise<SimulatedArm> {
    const device = await connectWcsDevice(sim, {
      deviceClass: 'arm',
      deviceId: spec.id,
      model: 'sim-arm-1',
      supportedActions: ARM_ACTIONS,
      capacities: { pickTime: spec.pickTime },
    });
    return new SimulatedArm(device, spec, sim);
  }

  async stop(graceful = true): Promise<void> {
    this.stopTelemetry();
    this.runner.stop();
    await this.device.close(graceful);
  }

  private plan(action: WcsAction): ActionPlan | { failed: string } {
    if (action.actionType !== 'pick') return { failed: `unsupported action type ${action.actionType}` };
    const quantity = Number(param(action, 'quantity'));
    if (!Number.isInteger(quantity) || quantity < 1) return { failed: `quantity must be a positive integer, got ${param(action, 'quantity') ?? '(missing)'}` };
    if (param(action, 'sku') === undefined) return { failed: 'sku missing' };
    return {
      durationMs: quantity * this.spec.pickTime * 1000,
      result: `picked=${quantity}`,
      onDone: () => {
        this.unitsPicked += quantity;
      },
    };
  }

  private telemetry(): void {
    const r = this.runner;
    const current = r.inProgress[0]?.action;
    const loads = current === undefined ? [] : (['sourceLoadId', 'targetLoadId'] as const).flatMap((k) => {
      const loadId = param(current, k);
      return loadId === undefined ? [] : [{ loadId, locationId: this.spec.stationId, position: 0 }];
    });
    this.device
      .publishTelemetry({
        deviceState: r.isPaused ? 'PAUSED' : current !== undefined ? 'BUSY' : 'IDLE',
        metrics: { queueLength: r.queueLength, completed: r.completed, failed: r.failed, unitsPicked: this.unitsPicked },
        loads,
      })
      .catch(() => undefined);
  }
}
