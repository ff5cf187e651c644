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
  /** Units the next picks will find missing in their source totes (a fault to inject). */
  private missingQueue: number[] = [];
  /** Picks that will grab the wrong item (caught by verification), a fault to inject. */
  private mispicks = 0;
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

  /**
   * The next pick finds `missing` fewer pieces in its source tote than it was asked for and
   * reports what it really moved (`picked=<n>`), as a real station's vision or scale would.
   */
  shortNextPick(missing: number): void {
    this.missingQueue.push(missing);
  }

  /** The next `count` picks grab the wrong item; the station's verification catches each one. */
  mispickNext(count = 1): void {
    this.mispicks += count;
  }

  private plan(action: WcsAction): ActionPlan | { failed: string } {
    if (action.actionType !== 'pick') return { failed: `unsupported action type ${action.actionType}` };
    const quantity = Number(param(action, 'quantity'));
    if (!Number.isInteger(quantity) || quantity < 1) return { failed: `quantity must be a positive integer, got ${param(action, 'quantity') ?? '(missing)'}` };
    if (param(action, 'sku') === undefined) return { failed: 'sku missing' };
    if (this.mispicks > 0) {
      this.mispicks -= 1;
      // Verification (scale or vision) saw the wrong item; it went back, nothing reached the order tote.
      return { failed: `mispick: wrong item for ${param(action, 'sku') ?? '?'} caught by verification` };
    }
    const moved = Math.max(0, quantity - (this.missingQueue.shift() ?? 0));
    return {
      durationMs: Math.max(1, moved) * this.spec.pickTime * 1000,
      result: `picked=${moved}`,
      onDone: () => {
        this.unitsPicked += moved;
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
