/**
 * Which simulated AMR occupies which node of one site's route graph. Real robots cannot drive
 * through each other; the simulated AMRs of a site share one of these maps so that they cannot
 * either. A robot occupies the node it stands on and, while it drives, the nodes it is driving
 * into, and leaves a node once it has reached the next one.
 *
 * A robot told to enter a node another occupies waits instead, and that counts as a conflict:
 * the master control sent it onto a node it had not made sure was free. With the core's traffic
 * control in charge the count stays zero; tests assert exactly that.
 */

export interface NodeConflict {
  vehicle: string;
  nodeId: string;
  occupiedBy: string;
}

/** At most this many conflicts are kept for inspection; the counter keeps counting. */
const CONFLICTS_KEPT = 100;

export class NodeOccupancy {
  private readonly occupant = new Map<string, string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private count = 0;
  private readonly recent: NodeConflict[] = [];

  /** Commanded entries into a node another robot occupied. */
  get conflicts(): number {
    return this.count;
  }

  /** The latest conflicts (up to 100), oldest first. */
  get conflictLog(): readonly NodeConflict[] {
    return this.recent;
  }

  occupantOf(nodeId: string): string | undefined {
    return this.occupant.get(nodeId);
  }

  /** Whether `vehicle` may be on `nodeId`: nobody else is. */
  mayEnter(vehicle: string, nodeId: string): boolean {
    const o = this.occupant.get(nodeId);
    return o === undefined || o === vehicle;
  }

  /** Occupies the node; false (and nothing changes) when another robot is on it. */
  enter(vehicle: string, nodeId: string): boolean {
    if (!this.mayEnter(vehicle, nodeId)) return false;
    this.occupant.set(nodeId, vehicle);
    return true;
  }

  leave(vehicle: string, nodeId: string): void {
    if (this.occupant.get(nodeId) !== vehicle) return;
    this.occupant.delete(nodeId);
    const waiting = this.waiters.get(nodeId);
    if (waiting === undefined) return;
    this.waiters.delete(nodeId);
    for (const wake of waiting) wake();
  }

  recordConflict(vehicle: string, nodeId: string): void {
    this.count++;
    this.recent.push({ vehicle, nodeId, occupiedBy: this.occupant.get(nodeId) ?? '(nobody)' });
    if (this.recent.length > CONFLICTS_KEPT) this.recent.shift();
  }

  /** Calls `wake` once when the node is left (at once if it is free). Returns a cancel. */
  whenLeft(nodeId: string, wake: () => void): () => void {
    if (!this.occupant.has(nodeId)) {
      wake();
      return () => undefined;
    }
    const set = this.waiters.get(nodeId) ?? new Set<() => void>();
    this.waiters.set(nodeId, set);
    set.add(wake);
    return () => set.delete(wake);
  }
}
