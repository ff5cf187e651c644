/**
 * Which vehicle takes which trip (issue "Execution" item 4), as pure arithmetic so that every
 * decision can be journaled with the numbers behind it:
 *
 *   cost = travel seconds to the (first) pick
 *        + queue length × seconds a queued trip is worth
 *        + a battery penalty that grows as the charge nears the low-battery line
 *
 * A vehicle that cannot do the trip (its profile's actions unsupported, no route) has no cost:
 * it is no candidate. Trips are served most urgent first: earliest promise, then priority, then
 * age.
 */

export interface AssignmentWeights {
  /** Seconds one trip already queued on a vehicle is worth (it must finish that one first). */
  queuedTripSeconds: number;
  /** Seconds added at the low-battery line; the penalty ramps up linearly over `batteryMarginPercent` above it. */
  batteryPenaltySeconds: number;
  batteryMarginPercent: number;
}

export const DEFAULT_ASSIGNMENT_WEIGHTS: AssignmentWeights = { queuedTripSeconds: 120, batteryPenaltySeconds: 30, batteryMarginPercent: 10 };

export interface CandidateFacts {
  vehicleId: string;
  /** Estimated seconds from where the vehicle stands to the trip's first pick; undefined: no route. */
  travelSeconds: number | undefined;
  /** Trips the vehicle holds or has queued. */
  queueLength: number;
  /** Percent; undefined when the vehicle never said. */
  battery: number | undefined;
  /** Below this percent a vehicle takes no trip at all. */
  lowBatteryPercent: number | undefined;
  /** Supports the actions its profile sends for a pick and a drop. */
  capable: boolean;
}

export interface CostBreakdown {
  vehicleId: string;
  travel: number;
  queue: number;
  battery: number;
  total: number;
}

/** Rounds to a tenth of a second: journal entries stay short and comparable. */
const tenth = (n: number): number => Math.round(n * 10) / 10;

/** Whether the vehicle can do the trip at all (no cost otherwise). */
function eligible(c: CandidateFacts): c is CandidateFacts & { travelSeconds: number } {
  if (!c.capable || c.travelSeconds === undefined || !Number.isFinite(c.travelSeconds)) return false;
  return !(c.lowBatteryPercent !== undefined && c.battery !== undefined && c.battery < c.lowBatteryPercent);
}

const travelPart = (c: CandidateFacts & { travelSeconds: number }): number => Math.max(0, c.travelSeconds);
const queuePart = (c: CandidateFacts, w: AssignmentWeights): number => Math.max(0, c.queueLength) * w.queuedTripSeconds;
function batteryPart(c: CandidateFacts, w: AssignmentWeights): number {
  if (c.battery === undefined || c.lowBatteryPercent === undefined || w.batteryMarginPercent <= 0) return 0;
  const above = c.battery - c.lowBatteryPercent;
  return w.batteryPenaltySeconds * Math.min(1, Math.max(0, 1 - above / w.batteryMarginPercent));
}

/** The cost of one vehicle doing one trip, or undefined when it cannot do it. */
export function assignmentCost(c: CandidateFacts, w: AssignmentWeights = DEFAULT_ASSIGNMENT_WEIGHTS): CostBreakdown | undefined {
  if (!eligible(c)) return undefined;
  const travel = travelPart(c);
  const queue = queuePart(c, w);
  const battery = batteryPart(c, w);
  return { vehicleId: c.vehicleId, travel: tenth(travel), queue: tenth(queue), battery: tenth(battery), total: tenth(travel + queue + battery) };
}

/** `assignmentCost(c, w)?.total`, without building the breakdown. */
export function assignmentTotal(c: CandidateFacts, w: AssignmentWeights = DEFAULT_ASSIGNMENT_WEIGHTS): number | undefined {
  if (!eligible(c)) return undefined;
  return tenth(travelPart(c) + queuePart(c, w) + batteryPart(c, w));
}

/** Cheaper first; ties by vehicle id, so decisions replay. */
function byCost(a: CostBreakdown, b: CostBreakdown): number {
  return a.total - b.total || (a.vehicleId < b.vehicleId ? -1 : a.vehicleId > b.vehicleId ? 1 : 0);
}

/** Candidates that can do the trip, cheapest first (ties by vehicle id, so decisions replay). */
export function rankCandidates(candidates: readonly CandidateFacts[], w: AssignmentWeights = DEFAULT_ASSIGNMENT_WEIGHTS): CostBreakdown[] {
  const costed: CostBreakdown[] = [];
  for (const c of candidates) {
    const cost = assignmentCost(c, w);
    if (cost) costed.push(cost);
  }
  return costed.sort(byCost);
}

/**
 * The `k` cheapest candidates in `rankCandidates` order, and how many could do the trip at all,
 * offered one at a time. The dispatcher needs the winner and a few runners-up for the journal,
 * not the whole fleet sorted, so only `k` are kept; and it offers every free vehicle for each
 * trip by refilling one facts object, so only the few candidates that make the top `k` cost an
 * allocation (ranking a fleet of 500 used to leave ~100 KB per trip behind).
 */
export class CheapestCandidates {
  readonly ranked: CostBreakdown[] = [];
  /** Candidates offered that could do the trip. */
  considered = 0;

  constructor(
    private readonly k: number,
    private readonly w: AssignmentWeights = DEFAULT_ASSIGNMENT_WEIGHTS,
  ) {}

  /** Weighs `c`; it is read now and not kept, so the caller may reuse the object. */
  offer(c: CandidateFacts): void {
    const total = assignmentTotal(c, this.w);
    if (total === undefined) return;
    this.considered++;
    const { k, ranked } = this;
    if (k <= 0) return;
    if (ranked.length === k) {
      const last = ranked[k - 1] as CostBreakdown;
      if (total > last.total || (total === last.total && c.vehicleId >= last.vehicleId)) return;
    }
    const cost = assignmentCost(c, this.w) as CostBreakdown;
    let i = ranked.length < k ? ranked.length : k - 1;
    if (ranked.length < k) ranked.push(cost);
    while (i > 0 && byCost(cost, ranked[i - 1] as CostBreakdown) < 0) {
      ranked[i] = ranked[i - 1] as CostBreakdown;
      i--;
    }
    ranked[i] = cost;
  }
}

export interface Urgency {
  id: string;
  /** Epoch ms the order was promised by; undefined sorts last. */
  promisedBy: number | undefined;
  /** Higher goes first. */
  priority: number;
  createdAt: number;
}

/** Earliest promise first, then higher priority, then older, then id: a total order. */
export function compareUrgency(a: Urgency, b: Urgency): number {
  const pa = a.promisedBy ?? Number.POSITIVE_INFINITY;
  const pb = b.promisedBy ?? Number.POSITIVE_INFINITY;
  if (pa !== pb) return pa < pb ? -1 : 1;
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The stops of a batched trip in visiting order: from the vehicle's node, always the nearest
 * remaining pick next (`travel` estimates seconds between two nodes; undefined: unreachable).
 * Returns undefined when a stop cannot be reached.
 */
export function orderStops<T extends { nodeId: string }>(from: string, stops: readonly T[], travel: (a: string, b: string) => number | undefined): T[] | undefined {
  const left = [...stops];
  const out: T[] = [];
  let at = from;
  while (left.length > 0) {
    let best = -1;
    let bestTime = Number.POSITIVE_INFINITY;
    left.forEach((s, i) => {
      const t = travel(at, s.nodeId);
      if (t !== undefined && t < bestTime) {
        best = i;
        bestTime = t;
      }
    });
    if (best < 0) return undefined;
    const [next] = left.splice(best, 1) as [T];
    out.push(next);
    at = next.nodeId;
  }
  return out;
}
