/**
 * The frame of a simulated wcs/v1 device (AS/RS, conveyor, arm station): the connected device,
 * its action runner, injected faults with the utilization meter, the telemetry timer, and an
 * orderly stop. A device supplies only its model: how it plans an action, what its telemetry
 * says and, if the runner cannot tell, how busy it is.
 */
import type { WcsDevice } from '../devices/index.js';
import type { WcsAction } from '../protocols/index.js';
import type { Fault, FaultKind, Faultable } from './faults.js';
import type { InterruptibleLink } from './interruptible-link.js';
import type { HasUtilization, Utilization, UtilizationState } from './utilization.js';
import type { WcsSimOptions } from './wcs-connect.js';
import { every, WcsActionRunner, type ActionPlan } from './wcs-runner.js';
import { WcsSimFaults } from './wcs-sim-faults.js';

export abstract class SimulatedWcsDevice implements Faultable, HasUtilization {
  readonly runner: WcsActionRunner;
  readonly faults: WcsSimFaults;
  private readonly stopTelemetry: () => void;

  /**
   * `link` is present when the device was connected through an interruptible link (then it can
   * suffer disconnect faults). Runs no device code yet: the runner, faults and telemetry timer
   * call back into the subclass only once it is built.
   */
  protected constructor(
    readonly device: WcsDevice,
    sim: WcsSimOptions,
    link: InterruptibleLink | undefined,
    mode: 'serial' | 'parallel',
    kinds: readonly FaultKind[],
  ) {
    this.runner = new WcsActionRunner(device, sim.clock, mode, (jobId, action) => this.plan(action, jobId));
    const faultOpts: ConstructorParameters<typeof WcsSimFaults>[0] = { device, runner: this.runner, clock: sim.clock, kinds, telemetry: () => this.telemetry() };
    if (this.utilizationState !== undefined) faultOpts.stateOf = this.utilizationState.bind(this);
    if (link !== undefined) faultOpts.link = link;
    this.faults = new WcsSimFaults(faultOpts);
    this.stopTelemetry = every(sim.clock, sim.telemetryMs ?? 1000, () => this.telemetry());
  }

  /** How the device carries out one action of a job, or why it refuses it. */
  protected abstract plan(action: WcsAction, jobId: string): ActionPlan | { failed: string };

  /** Publishes the device's telemetry now. */
  protected abstract telemetry(): void;

  /** Busy/blocked/idle when the device knows better than its runner (a fault still wins). */
  protected utilizationState?(): UtilizationState;

  /** Cancels the device's own timers and waits; `stop` runs it before the runner stops. */
  protected beforeStop(): void {
    // Most devices keep no timers of their own.
  }

  get faultKinds(): readonly FaultKind[] {
    return this.faults.faultKinds;
  }

  get activeFaults(): readonly FaultKind[] {
    return this.faults.activeFaults;
  }

  injectFault(fault: Fault): void {
    this.faults.injectFault(fault);
  }

  utilization(): Utilization {
    return this.faults.utilization();
  }

  async stop(graceful = true): Promise<void> {
    this.stopTelemetry();
    this.beforeStop();
    this.runner.stop();
    this.faults.dispose();
    await this.device.close(graceful);
  }
}
