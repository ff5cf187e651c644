/**
 * The short accumulating conveyors in front of AS/RS ports, shared by the AS/RS (which puts
 * retrieved bins out and takes bins to store in) and the conveyor (which takes bins away and
 * delivers bins back). Each port has an outbound and an inbound queue, each holding at most
 * `capacity` bins: a retrieval whose outbound queue is full waits with the bin on the crane,
 * a delivery whose inbound queue is full waits at the end of the belt.
 *
 * One object per site, passed to both devices, like the AMRs' NodeOccupancy. A device started
 * without one gets an unbounded private one (nothing would ever take its bins away).
 */
import type { SimClock } from './clock.js';
import { UtilizationMeter, type Utilization } from './utilization.js';

export type PortSide = 'outbound' | 'inbound';

interface PortQueues {
  outbound: string[];
  inbound: string[];
  waiters: Record<PortSide, Set<() => void>>;
  /** Busy while a bin stands on the port, blocked while a full queue holds something up. */
  meter: UtilizationMeter | undefined;
  blockedWaits: number;
}

/** Reference default: three bin positions each way in front of a port. */
export const DEFAULT_PORT_CAPACITY = 3;

export class PortBuffers {
  private readonly ports = new Map<string, PortQueues>();

  constructor(
    readonly capacity: number = DEFAULT_PORT_CAPACITY,
    private readonly clock?: Pick<SimClock, 'now'>,
  ) {
    if (!(capacity >= 1)) throw new RangeError('port capacity must be at least 1');
  }

  /** Makes the ports known (the AS/RS does it for its own), so a belt can tell a port from a station. */
  declare(portIds: readonly string[]): void {
    for (const id of portIds) this.port(id);
  }

  isPort(stopId: string): boolean {
    return this.ports.has(stopId);
  }

  /** Bins waiting on the port's `side`, oldest first. */
  bins(portId: string, side: PortSide): readonly string[] {
    return this.port(portId)[side];
  }

  hasRoom(portId: string, side: PortSide): boolean {
    return this.port(portId)[side].length < this.capacity;
  }

  /** Puts a bin on the port; false (nothing changes) when that side is full. */
  put(portId: string, side: PortSide, binId: string): boolean {
    const p = this.port(portId);
    if (p[side].length >= this.capacity) return false;
    p[side].push(binId);
    this.mark(p);
    return true;
  }

  /** Takes a bin off the port; false when it is not there (a tote fed by hand, say). */
  take(portId: string, side: PortSide, binId: string): boolean {
    const p = this.port(portId);
    const i = p[side].indexOf(binId);
    if (i < 0) return false;
    p[side].splice(i, 1);
    this.mark(p);
    const waiting = [...p.waiters[side]];
    p.waiters[side].clear();
    for (const wake of waiting) wake();
    return true;
  }

  /** Calls `wake` once when `side` has room (at once if it has). Returns a cancel. */
  whenRoom(portId: string, side: PortSide, wake: () => void): () => void {
    const p = this.port(portId);
    if (p[side].length < this.capacity) {
      wake();
      return () => undefined;
    }
    p.blockedWaits++;
    p.waiters[side].add(wake);
    this.mark(p);
    return () => {
      p.waiters[side].delete(wake);
      this.mark(p);
    };
  }

  /** Times something had to wait for room on this port. */
  blockedWaits(portId: string): number {
    return this.port(portId).blockedWaits;
  }

  /** Time split of one port (needs a clock at construction). */
  utilization(portId: string): Utilization | undefined {
    return this.port(portId).meter?.snapshot();
  }

  get portIds(): string[] {
    return [...this.ports.keys()];
  }

  private port(portId: string): PortQueues {
    let p = this.ports.get(portId);
    if (p === undefined) {
      p = { outbound: [], inbound: [], waiters: { outbound: new Set(), inbound: new Set() }, meter: this.clock === undefined ? undefined : new UtilizationMeter(this.clock), blockedWaits: 0 };
      this.ports.set(portId, p);
    }
    return p;
  }

  private mark(p: PortQueues): void {
    if (p.meter === undefined) return;
    const waiting = p.waiters.outbound.size + p.waiters.inbound.size > 0;
    p.meter.set(waiting ? 'blocked' : p.outbound.length + p.inbound.length > 0 ? 'busy' : 'idle');
  }
}
