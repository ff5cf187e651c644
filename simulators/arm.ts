/**
 * A simulated robot-arm pick station. `pick` {sku, quantity, sourceLoadId, targetLoadId} moves
 * `quantity` pieces from the source tote to the target tote, one pick at a time. FINISHED
 * carries `picked=<n>` so the core can book exactly what moved.
 *
 * With a random stream (`behaviour.rng`) the station behaves like a real one: each grasp takes a
 * lognormal time around the layout's `pickTime`, a grasp fails now and then (the arm tries
 * again, `regraspSeconds` later; after `maxGraspAttempts` the pick FAILS), and a small share of
 * picks take the wrong item, which the station's verification (scale or vision) catches after
 * the move: the action FAILS `mispick: ...` and nothing reached the order tote. Without a
 * stream every unit takes exactly `pickTime` and nothing fails unless a test injects it.
 */
import type { WcsDevice } from '../devices/index.js';
import type { WcsAction } from '../protocols/index.js';
import type { SiteLayout } from '../src/index.js';
import { lognormal } from './distributions.js';
import type { InterruptibleLink } from './interruptible-link.js';
import type { Rng } from './random.js';
import type { WcsSimOptions } from './wcs-connect.js';
import { PAUSE_ACTIONS, param, type ActionPlan } from './wcs-runner.js';
import { SimulatedWcsDevice } from './wcs-sim-device.js';
import { connectInterruptible } from './wcs-sim-faults.js';

export type ArmSpec = SiteLayout['devices']['arms'][number];

export const ARM_ACTIONS = [
  { actionType: 'pick', parameterKeys: ['sku', 'quantity', 'sourceLoadId', 'targetLoadId'], description: 'move pieces from the source tote to the target tote' },
  ...PAUSE_ACTIONS,
];

export interface ArmBehaviour {
  /** The station's own random stream; without it the station is deterministic. */
  rng?: Rng;
  /** Coefficient of variation of one grasp-and-place (0.25 by default). */
  pickTimeCv?: number;
  /** Probability that one grasp fails and is retried (0.02 by default). */
  graspFailureRate?: number;
  /** Seconds lost re-approaching after a failed grasp (1.5 by default). */
  regraspSeconds?: number;
  /** Grasp attempts per unit before the pick fails (3 by default). */
  maxGraspAttempts?: number;
  /** Probability that a pick takes the wrong item (0.003 by default, DESIGN.md §5). */
  mispickRate?: number;
}

const DEFAULTS = { pickTimeCv: 0.25, graspFailureRate: 0.02, regraspSeconds: 1.5, maxGraspAttempts: 3, mispickRate: 0.003 };

/** Seconds one pick of `units` takes with the given stream, or the unit at which grasping gave up. */
export function armPickTime(
  units: number,
  meanSeconds: number,
  b: Required<Omit<ArmBehaviour, 'rng'>>,
  rng: Rng | undefined,
): { seconds: number; graspFailures: number; gaveUp: boolean } {
  if (rng === undefined) return { seconds: Math.max(1, units) * meanSeconds, graspFailures: 0, gaveUp: false };
  let seconds = 0;
  let graspFailures = 0;
  for (let u = 0; u < Math.max(1, units); u++) {
    let ok = false;
    for (let attempt = 1; attempt <= b.maxGraspAttempts && !ok; attempt++) {
      seconds += lognormal(rng, meanSeconds, b.pickTimeCv);
      if (rng.next() >= b.graspFailureRate) ok = true;
      else {
        graspFailures++;
        seconds += b.regraspSeconds;
      }
    }
    if (!ok) return { seconds, graspFailures, gaveUp: true };
  }
  return { seconds, graspFailures, gaveUp: false };
}

export class SimulatedArm extends SimulatedWcsDevice {
  unitsPicked = 0;
  /** Grasps that slipped and were retried. */
  graspFailures = 0;
  /** Picks verification caught with the wrong item. */
  mispicksCaught = 0;
  /** Units the next picks will find missing in their source totes (a fault to inject). */
  private missingQueue: number[] = [];
  /** Picks that will grab the wrong item (caught by verification), a fault to inject. */
  private mispicks = 0;
  private readonly behaviour: Required<Omit<ArmBehaviour, 'rng'>>;
  private readonly rng: Rng | undefined;

  private constructor(
    device: WcsDevice,
    private readonly spec: ArmSpec,
    sim: WcsSimOptions,
    link: InterruptibleLink | undefined,
    behaviour: ArmBehaviour,
  ) {
    super(device, sim, link, 'serial', ['breakdown', 'disconnect', 'slowdown']);
    this.rng = behaviour.rng;
    this.behaviour = { ...DEFAULTS, ...stripUndefined(behaviour) };
  }

  static async start(spec: ArmSpec, sim: WcsSimOptions, behaviour: ArmBehaviour = {}): Promise<SimulatedArm> {
    const { device, link } = await connectInterruptible(sim, {
      deviceClass: 'arm',
      deviceId: spec.id,
      model: 'sim-arm-1',
      supportedActions: ARM_ACTIONS,
      capacities: { pickTime: spec.pickTime },
    });
    return new SimulatedArm(device, spec, sim, link, behaviour);
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

  protected plan(action: WcsAction): ActionPlan | { failed: string } {
    if (action.actionType !== 'pick') return { failed: `unsupported action type ${action.actionType}` };
    const quantity = Number(param(action, 'quantity'));
    if (!Number.isInteger(quantity) || quantity < 1) return { failed: `quantity must be a positive integer, got ${param(action, 'quantity') ?? '(missing)'}` };
    const sku = param(action, 'sku');
    if (sku === undefined) return { failed: 'sku missing' };
    const injected = this.mispicks > 0;
    if (injected) this.mispicks -= 1;
    if (injected || (this.rng !== undefined && this.rng.next() < this.behaviour.mispickRate)) {
      // The arm moved one item; verification saw it was the wrong one and it went back.
      const t = armPickTime(1, this.spec.pickTime, this.behaviour, this.rng);
      this.mispicksCaught++;
      return { durationMs: t.seconds * 1000, failure: `mispick: wrong item for ${sku} caught by verification` };
    }
    const moved = Math.max(0, quantity - (this.missingQueue.shift() ?? 0));
    const t = armPickTime(moved, this.spec.pickTime, this.behaviour, this.rng);
    this.graspFailures += t.graspFailures;
    if (t.gaveUp) return { durationMs: t.seconds * 1000, failure: `grasp failed ${this.behaviour.maxGraspAttempts} times on ${sku}` };
    return {
      durationMs: t.seconds * 1000,
      result: `picked=${moved}`,
      onDone: () => {
        this.unitsPicked += moved;
      },
    };
  }

  protected telemetry(): void {
    const r = this.runner;
    const current = r.inProgress[0]?.action;
    const loads = current === undefined ? [] : (['sourceLoadId', 'targetLoadId'] as const).flatMap((k) => {
      const loadId = param(current, k);
      return loadId === undefined ? [] : [{ loadId, locationId: this.spec.stationId, position: 0 }];
    });
    this.device
      .publishTelemetry({
        deviceState: r.isHalted ? 'FAULT' : r.isPaused ? 'PAUSED' : current !== undefined ? 'BUSY' : 'IDLE',
        metrics: { queueLength: r.queueLength, completed: r.completed, failed: r.failed, unitsPicked: this.unitsPicked, graspFailures: this.graspFailures, mispicksCaught: this.mispicksCaught, speedFactor: r.speedFactor },
        loads,
      })
      .catch(() => undefined);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'rng')) as Partial<T>;
}
