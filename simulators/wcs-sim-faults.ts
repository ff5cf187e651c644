/**
 * What the simulated AS/RS, conveyor and arm share beyond the action runner: injected faults
 * (breakdown, jam, disconnect, slowdown) and the utilization meter. A breakdown or jam halts
 * the runner and is reported as a WARNING on each active job (the job is delayed, not failed)
 * plus deviceState FAULT in telemetry; a slowdown stretches the running actions; a disconnect
 * takes the device off the broker (its last will fires) until it reconnects.
 */
import type { WcsDevice } from '../devices/index.js';
import type { SimClock } from './clock.js';
import { FaultState, type Fault, type FaultKind, type Faultable } from './faults.js';
import type { InterruptibleLink } from './interruptible-link.js';
import { interruptibleFactory, type LinkHolder } from './sim-link.js';
import { UtilizationMeter, type HasUtilization, type Utilization, type UtilizationState } from './utilization.js';
import { connectWcsDevice, type WcsSimOptions } from './wcs-connect.js';
import type { WcsActionRunner } from './wcs-runner.js';

export interface WcsSimFaultsOptions {
  device: WcsDevice;
  runner: WcsActionRunner;
  clock: SimClock;
  /** Present when the device was connected through an interruptible link (disconnect faults). */
  link?: InterruptibleLink;
  kinds: readonly FaultKind[];
  /** Publishes telemetry now, so a fault shows at once rather than at the next period. */
  telemetry: () => void;
  /** Overrides how busy/blocked is judged (the conveyor knows its belt better than the runner). */
  stateOf?: () => UtilizationState;
}

const STOPPING: readonly FaultKind[] = ['breakdown', 'jam'];

export class WcsSimFaults implements Faultable, HasUtilization {
  readonly state: FaultState;
  readonly faultKinds: readonly FaultKind[];
  private readonly meter: UtilizationMeter;

  constructor(private readonly o: WcsSimFaultsOptions) {
    this.faultKinds = o.kinds.filter((k) => k !== 'disconnect' || o.link !== undefined);
    this.state = new FaultState(o.clock, this.faultKinds);
    this.meter = new UtilizationMeter(o.clock);
    this.state.onChange((kind, started) => this.apply(kind, started));
    o.runner.onChange(() => this.mark());
  }

  get activeFaults(): readonly FaultKind[] {
    return this.state.activeKinds;
  }

  injectFault(fault: Fault): void {
    this.state.inject(fault);
  }

  /** Ends a fault before its time (e.g. a test clearing a jam). */
  endFault(kind: FaultKind): void {
    this.state.end(kind);
  }

  utilization(): Utilization {
    this.mark();
    return this.meter.snapshot();
  }

  /** Re-judges the device's state; devices call it when their own model changes. */
  mark(): void {
    this.meter.set(this.judge());
  }

  dispose(): void {
    this.state.dispose();
  }

  private judge(): UtilizationState {
    const r = this.o.runner;
    if (r.isHalted) return 'fault';
    if (this.o.stateOf !== undefined) return this.o.stateOf();
    if (r.runningCount === 0) return r.isPaused && r.queueLength > 0 ? 'blocked' : 'idle';
    if (r.isPaused || r.gatedCount === r.runningCount) return 'blocked';
    return 'busy';
  }

  private apply(kind: FaultKind, started: boolean): void {
    const { runner, device } = this.o;
    if (STOPPING.includes(kind)) {
      if (started) runner.halt(kind);
      else runner.restart(kind);
      for (const jobId of device.activeJobIds) {
        const p = started
          ? device.reportError(jobId, {
              errorType: kind,
              errorLevel: 'WARNING',
              errorDescription: kind === 'jam' ? 'a tote jammed the belt; everything on it stopped' : 'device broken down, waiting for repair',
              errorReferences: [{ referenceKey: 'jobId', referenceValue: jobId }],
            })
          : device.clearErrors(jobId);
        p.catch(() => undefined);
      }
    } else if (kind === 'slowdown') {
      runner.setSpeedFactor(this.state.speedFactor);
    } else if (kind === 'disconnect') {
      if (started) this.o.link?.interrupt();
      else this.o.link?.restore();
    }
    this.mark();
    this.o.telemetry();
  }
}

/**
 * Connects a simulated wcs device through an InterruptibleLink (so it can suffer disconnects),
 * whatever the options carry: a link, a link factory or a broker URL.
 */
export async function connectInterruptible(
  sim: WcsSimOptions,
  device: Parameters<typeof connectWcsDevice>[1],
): Promise<{ device: WcsDevice; link: InterruptibleLink | undefined }> {
  const holder: LinkHolder = { link: undefined };
  const factory = interruptibleFactory(sim, holder);
  const opts: WcsSimOptions = { ...sim };
  delete opts.link;
  delete opts.url;
  if (factory !== undefined) opts.linkFactory = factory;
  const connected = await connectWcsDevice(opts, device);
  return { device: connected, link: holder.link };
}
