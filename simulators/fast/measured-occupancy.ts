/**
 * The site's node occupancy map, also timing how long each robot waits for a node another robot
 * holds: the congestion KPI. A wait starts when a robot records a conflict (it was commanded
 * onto an occupied node and stopped) and ends when it enters that node, or starts waiting for
 * another one.
 */
import { NodeOccupancy } from '../node-occupancy.js';

export class MeasuredOccupancy extends NodeOccupancy {
  private readonly waiting = new Map<string, { nodeId: string; since: number }>();
  private readonly blockedMs = new Map<string, number>();

  constructor(private readonly now: () => number) {
    super();
  }

  override recordConflict(vehicle: string, nodeId: string): void {
    super.recordConflict(vehicle, nodeId);
    this.endWait(vehicle);
    this.waiting.set(vehicle, { nodeId, since: this.now() });
  }

  override enter(vehicle: string, nodeId: string): boolean {
    const ok = super.enter(vehicle, nodeId);
    if (ok && this.waiting.get(vehicle)?.nodeId === nodeId) this.endWait(vehicle);
    return ok;
  }

  /** Whether the robot is waiting for a node right now. */
  isBlocked(vehicle: string): boolean {
    return this.waiting.has(vehicle);
  }

  /** Milliseconds the robot has spent blocked so far, including a wait still going on. */
  blockedTime(vehicle: string): number {
    const open = this.waiting.get(vehicle);
    return (this.blockedMs.get(vehicle) ?? 0) + (open ? this.now() - open.since : 0);
  }

  /** All robots' blocked time so far, in milliseconds. */
  totalBlockedTime(): number {
    let sum = 0;
    for (const v of new Set([...this.blockedMs.keys(), ...this.waiting.keys()])) sum += this.blockedTime(v);
    return sum;
  }

  private endWait(vehicle: string): void {
    const w = this.waiting.get(vehicle);
    if (w === undefined) return;
    this.waiting.delete(vehicle);
    this.blockedMs.set(vehicle, (this.blockedMs.get(vehicle) ?? 0) + this.now() - w.since);
  }
}
