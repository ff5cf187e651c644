/**
 * ETA arithmetic (DESIGN §6): how long the rest of a line's plan will take, when its goods are
 * picked, and from there when the order is packed, leaves and arrives. Pure: the caller passes
 * `now`, what the floor looks like (queues, devices) and what it has observed; nothing here reads
 * a clock or the store.
 *
 * Step durations are learned per (device class, task kind) — the kind fixes the class
 * (`amr.pickTrip` runs on an AMR, `asrs.retrieve` on an AS/RS, ...) — as an exponentially weighted
 * moving average seeded from the layout's physics (DESIGN §5 reference defaults). Tasks of one
 * kind differ in length (a trip to the far aisle, a bin on the top level), so the average is kept
 * for the layout's *typical* task of the kind, and each task's expectation is scaled by its own
 * physical estimate: expected(task) = learned(kind) × nominal(task) / nominal(typical task). An
 * observation is normalised the same way before it enters the average. The learned figure then
 * carries what physics leaves out (congestion, a slow vendor, a sped-up simulation), and the
 * route travel estimate carries where the task goes.
 */
import { isPickingStep } from './execution-plan.js';
import { MS_PER_DAY } from './geo.js';
import type { DeviceClass, TaskKind, TaskPlan, TaskState } from './records.js';
import type { RouteGraph } from './route-graph.js';
import type { SiteLayout } from './site-layout.js';
import { DEFAULT_PACK_TIMING, packDurationMs, type PackTiming } from './shipment.js';
import { nextDeparture, transitDays, type CarrierProfile, type SiteProfile } from './sourcing.js';

/**
 * Smoothing factor of the learned durations. 0.2 gives the newest observation a fifth of the
 * weight: the last ~5 steps of a kind carry two thirds of the average (an effective window of
 * (2 - α) / α ≈ 9 steps), so a lasting change — congestion, a slower vehicle model — shows within
 * a few minutes of floor work, while one odd step moves the average by at most a fifth of its
 * deviation (and the deviation is capped, see OUTLIER_CAP).
 *
 * Warm start: until 1/(n + 2) drops below α, the n-th observation gets weight 1/(n + 2), i.e. the
 * seed counts as one observation and the first few are averaged plainly. A seed from physics can be
 * far off (a real fleet, or a simulation run faster than real time); a fixed α of 0.2 would need
 * a dozen steps to forget it, the plain mean needs three or four.
 */
export const EWMA_ALPHA = 0.2;

/**
 * An observation counts as at most this many times the current average. A step that stood still
 * in a jam or waited for an operator says little about the next one; without the cap one such
 * step would drag the average for the next dozen. Shorter-than-expected steps are not capped:
 * they are how a wrong seed gets unlearned.
 */
export const OUTLIER_CAP = 4;

/**
 * A running step never counts as (nearly) done just because its expected time has passed: its
 * remaining time is at least OVERDUE_FLOOR_FRACTION of its expected duration plus
 * OVERDUE_GROWTH × how long it is already overdue. A step that runs late is evidence of trouble
 * (a jam, congestion, a retry), so the longer it overruns the longer it is assumed to still need:
 * the ETA of a stalled step moves later by 1.5 s every second once it is overdue, instead of
 * sitting at "any moment now".
 */
export const OVERDUE_FLOOR_FRACTION = 0.1;
export const OVERDUE_GROWTH = 0.5;

/** DESIGN §5 reference physics, used where the layout says nothing. */
export const REFERENCE_PHYSICS = {
  amrSpeed: 1.5,
  amrAccel: 0.5,
  /** Lift or set-down of a tote, seconds. */
  amrHandling: 3,
  /** Turns of a trip: about a full revolution (2.5 s per 360°) over its two legs. */
  amrTurns: 2.5,
  shuttle: { maxSpeed: 2, accel: 1 },
  lift: { maxSpeed: 3, accel: 3 },
  /** Load or unload of a bin by the crane, seconds. */
  binHandling: 2,
  /** Seconds per unit at an arm station when the layout gives none. */
  armPick: 10,
  /**
   * Belt length one tote occupies with its gap (0.6 m tote + merge gap): a conveyor carries
   * length / pitch totes at once, so it is that many servers for queueing purposes.
   */
  totePitch: 1,
} as const;

/** Used when the layout has no device of a kind to seed from. */
const FALLBACK_SECONDS = 60;

export const KIND_CLASS: Readonly<Record<TaskKind, DeviceClass>> = {
  'amr.pickTrip': 'amr',
  'asrs.retrieve': 'asrs',
  'conveyor.toStation': 'conveyor',
  'arm.pick': 'arm',
  'conveyor.toPort': 'conveyor',
  'asrs.store': 'asrs',
};

/** The steps a line's plan will have, by the zone its stock sits in (execution-plan.ts). */
export const ZONE_STEPS: Readonly<Record<'amr' | 'asrs', readonly TaskKind[]>> = {
  amr: ['amr.pickTrip'],
  asrs: ['asrs.retrieve', 'conveyor.toStation', 'arm.pick', 'conveyor.toPort', 'asrs.store'],
};

// ---- learned step durations -------------------------------------------------------------------

export interface Learned {
  /** Seconds, for the typical task of the kind. */
  seconds: number;
  /** Observations so far (0: the seed alone). */
  samples: number;
}

/** One EWMA step with the warm start and the outlier cap described above. */
export function ewma(prev: Learned, observed: number, alpha = EWMA_ALPHA): Learned {
  const weight = Math.max(alpha, 1 / (prev.samples + 2));
  const value = Math.min(Math.max(0, observed), prev.seconds * OUTLIER_CAP);
  return { seconds: prev.seconds + weight * (value - prev.seconds), samples: prev.samples + 1 };
}

function trapezoidSeconds(distance: number, limits: { maxSpeed: number; accel: number }): number {
  const d = Math.abs(distance);
  if (d === 0) return 0;
  const { maxSpeed: v, accel: a } = limits;
  return d >= (v * v) / a ? d / v + v / a : 2 * Math.sqrt(d / a);
}

/**
 * Physical estimates of steps on one layout: `nominal` for one task, `typical` per kind (the
 * seed). Memoised per route and location, so recomputing hundreds of ETAs a second runs no
 * shortest-path search twice.
 */
export class StepPhysics {
  private readonly amr: { maxSpeed: number; accel: number };
  private readonly cache = new Map<string, number | undefined>();
  readonly typical: ReadonlyMap<TaskKind, number>;

  constructor(
    private readonly layout: SiteLayout,
    private readonly graph: RouteGraph,
  ) {
    const amrs = layout.devices.amrs;
    const mean = (xs: number[], fallback: number): number => (xs.length === 0 ? fallback : xs.reduce((s, x) => s + x, 0) / xs.length);
    this.amr = {
      maxSpeed: mean(amrs.flatMap((a) => a.maxSpeed ?? []), REFERENCE_PHYSICS.amrSpeed),
      accel: mean(amrs.flatMap((a) => a.acceleration ?? []), REFERENCE_PHYSICS.amrAccel),
    };
    this.typical = this.typicalDurations(mean);
  }

  /** Seconds the task should take by physics alone; undefined when its plan says too little. */
  nominal(kind: TaskKind, plan: Partial<TaskPlan>): number | undefined {
    const key = `${kind}|${plan.location ?? ''}|${plan.pickNodeId ?? ''}|${plan.dropNodeId ?? ''}|${plan.deviceId ?? ''}|${plan.portId ?? ''}|${plan.stationId ?? ''}|${kind === 'arm.pick' ? (plan.quantity ?? 1) : ''}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const seconds = this.compute(kind, plan);
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(key, seconds);
    return seconds;
  }

  private compute(kind: TaskKind, plan: Partial<TaskPlan>): number | undefined {
    switch (kind) {
      case 'amr.pickTrip':
        return plan.pickNodeId && plan.dropNodeId ? this.trip(plan.pickNodeId, plan.dropNodeId) : undefined;
      case 'asrs.retrieve':
      case 'asrs.store':
        return plan.location ? this.crane(plan.location) : undefined;
      case 'conveyor.toStation':
      case 'conveyor.toPort': {
        if (!plan.deviceId || !plan.portId || !plan.stationId) return undefined;
        const [from, to] = kind === 'conveyor.toStation' ? [plan.portId, plan.stationId] : [plan.stationId, plan.portId];
        return this.belt(plan.deviceId, from, to);
      }
      case 'arm.pick': {
        const arm = this.layout.devices.arms.find((a) => a.id === plan.deviceId);
        return (arm?.pickTime ?? REFERENCE_PHYSICS.armPick) * Math.max(1, plan.quantity ?? 1);
      }
    }
  }

  /**
   * A pick trip: the approach, then pick node to drop node. Where the vehicle starts is only
   * known at dispatch; vehicles mostly come from their last drop, so the approach is taken as the
   * way back from the drop node.
   */
  private trip(pick: string, drop: string): number | undefined {
    if (!this.graph.has(pick) || !this.graph.has(drop)) return undefined;
    const approach = this.graph.shortestPath(drop, pick, this.amr.maxSpeed);
    // Every carry ends at one of few drop nodes: the cached tree into the drop serves them all.
    const carry = this.graph.shortestPathCached(pick, drop, this.amr.maxSpeed);
    if (!approach || !carry) return undefined;
    // Trapezoid per leg, plus what slower edges add over cruising at full speed.
    const leg = (r: { length: number; travelTime: number }): number =>
      trapezoidSeconds(r.length, this.amr) + Math.max(0, r.travelTime - r.length / this.amr.maxSpeed);
    return leg(approach) + leg(carry) + 2 * REFERENCE_PHYSICS.amrHandling + REFERENCE_PHYSICS.amrTurns;
  }

  /** Port to location and back with a load and an unload; travel and lift run together. */
  private crane(locationId: string): number | undefined {
    const loc = this.layout.locations.find((l) => l.id === locationId);
    const asrs = this.layout.devices.asrs.find((a) => a.id === loc?.asrsId);
    if (!loc || !asrs) return undefined;
    const position = loc.position ?? asrs.aisleLength / 2;
    const height = (loc.level ?? Math.floor(asrs.levels / 2)) * asrs.levelHeight;
    const move = Math.max(trapezoidSeconds(position, REFERENCE_PHYSICS.shuttle), trapezoidSeconds(height, REFERENCE_PHYSICS.lift));
    return 2 * move + 2 * REFERENCE_PHYSICS.binHandling;
  }

  private belt(conveyorId: string, fromStop: string, toStop: string): number | undefined {
    const c = this.layout.devices.conveyors.find((x) => x.id === conveyorId);
    const from = c?.stops.find((s) => s.id === fromStop);
    const to = c?.stops.find((s) => s.id === toStop);
    if (!c || !from || !to) return undefined;
    let d = to.at - from.at;
    if (d < 0) d = c.kind === 'loop' ? d + c.length : -d;
    return d / c.speed;
  }

  private typicalDurations(mean: (xs: number[], fallback: number) => number): Map<TaskKind, number> {
    const { layout } = this;
    const pack = layout.stations.find((s) => s.kind === 'pack' && s.nodeId !== undefined);
    // A spread sample is as good a mean as all of them: a 1,900-pod floor would otherwise run a
    // route search per pod before the first ETA.
    const amrLocations = evenSample(layout.locations.filter((l) => l.zone === 'amr' && l.nodeId), TYPICAL_SAMPLE);
    const trips = pack?.nodeId
      ? amrLocations.flatMap((l) => (l.nodeId ? (this.nominal('amr.pickTrip', { pickNodeId: l.nodeId, dropNodeId: pack.nodeId }) ?? []) : []))
      : [];
    const cranes = evenSample(layout.locations.filter((l) => l.zone === 'asrs'), TYPICAL_SAMPLE).flatMap((l) => this.nominal('asrs.retrieve', { location: l.id }) ?? []);
    const toStation: number[] = [];
    const toPort: number[] = [];
    for (const asrs of layout.devices.asrs) {
      for (const port of asrs.ports) {
        for (const st of layout.stations.filter((s) => s.kind === 'arm')) {
          const plan = { deviceId: port.conveyorId, portId: port.id, stationId: st.id };
          const there = this.nominal('conveyor.toStation', plan);
          const back = this.nominal('conveyor.toPort', plan);
          if (there !== undefined) toStation.push(there);
          if (back !== undefined) toPort.push(back);
        }
      }
    }
    const arms = layout.devices.arms.map((a) => a.pickTime);
    const craneMean = mean(cranes, FALLBACK_SECONDS);
    return new Map<TaskKind, number>([
      ['amr.pickTrip', mean(trips, FALLBACK_SECONDS)],
      ['asrs.retrieve', craneMean],
      ['asrs.store', craneMean],
      ['conveyor.toStation', mean(toStation, FALLBACK_SECONDS)],
      ['conveyor.toPort', mean(toPort, FALLBACK_SECONDS)],
      ['arm.pick', mean(arms, REFERENCE_PHYSICS.armPick)],
    ]);
  }
}

export interface LearnedStep extends Learned {
  kind: TaskKind;
  deviceClass: DeviceClass;
  /** The layout-based seed the average started from. */
  seedSeconds: number;
}

/** The learned durations of one site: typical seconds per kind, and per-task expectations. */
export class StepDurations {
  private readonly learned = new Map<TaskKind, Learned>();

  constructor(
    private readonly physics: StepPhysics,
    private readonly alpha = EWMA_ALPHA,
  ) {
    for (const [kind, seconds] of physics.typical) this.learned.set(kind, { seconds, samples: 0 });
  }

  /** Seconds the typical task of the kind takes, as learned. */
  typical(kind: TaskKind): number {
    return this.learned.get(kind)?.seconds ?? FALLBACK_SECONDS;
  }

  /** Seconds this task should take: the learned typical duration scaled by the task's physics. */
  expected(kind: TaskKind, plan: Partial<TaskPlan>): number {
    return this.typical(kind) * this.scale(kind, plan);
  }

  /** Mean typical duration over the kinds a device class runs: the queue's service time. */
  classMean(cls: DeviceClass): number {
    const kinds = (Object.keys(KIND_CLASS) as TaskKind[]).filter((k) => KIND_CLASS[k] === cls);
    return kinds.length === 0 ? FALLBACK_SECONDS : kinds.reduce((s, k) => s + this.typical(k), 0) / kinds.length;
  }

  /** Feeds one finished step (seconds of work); returns the observation as normalised to the typical task. */
  observe(kind: TaskKind, plan: Partial<TaskPlan>, seconds: number): number {
    const normalised = seconds / this.scale(kind, plan);
    this.learned.set(kind, ewma(this.learned.get(kind) ?? { seconds: this.physics.typical.get(kind) ?? FALLBACK_SECONDS, samples: 0 }, normalised, this.alpha));
    return normalised;
  }

  snapshot(): LearnedStep[] {
    return [...this.learned].map(([kind, l]) => ({ kind, deviceClass: KIND_CLASS[kind], seedSeconds: this.physics.typical.get(kind) ?? FALLBACK_SECONDS, ...l }));
  }

  private scale(kind: TaskKind, plan: Partial<TaskPlan>): number {
    const typical = this.physics.typical.get(kind);
    const nominal = this.physics.nominal(kind, plan);
    return typical === undefined || nominal === undefined || typical <= 0 || nominal <= 0 ? 1 : nominal / typical;
  }
}

// ---- remaining time of a line's plan ---------------------------------------------------------

/** Seconds a running step still needs, given how long it has worked (stalled time excluded). */
export function runningRemaining(expected: number, elapsed: number): number {
  const overdue = Math.max(0, elapsed - expected);
  return Math.max(expected - elapsed, OVERDUE_FLOOR_FRACTION * expected + OVERDUE_GROWTH * overdue);
}

/** Waiting behind `ahead` tasks for one of `servers` devices that each take `meanSeconds` a task. */
export function queueWait(ahead: number, servers: number, meanSeconds: number): number {
  return (Math.max(0, ahead) / Math.max(1, servers)) * meanSeconds;
}

/**
 * The release window's share of the wait of a line not yet released: the floor works on `window`
 * lines at once, each about `meanLineSeconds`; the lines already active and those ahead in the
 * release order must make room first.
 */
export function releaseWait(o: { linesAhead: number; activeLines: number; window: number; meanLineSeconds: number }): number {
  const over = o.activeLines + o.linesAhead + 1 - o.window;
  return over <= 0 ? 0 : (over / Math.max(1, o.window)) * o.meanLineSeconds;
}

export type PlanStep =
  | { kind: TaskKind; status: 'done' }
  | { kind: TaskKind; status: 'running'; expected: number; elapsed: number }
  | { kind: TaskKind; status: 'waiting'; expected: number; queueWait: number };

/** Task states as a plan step sees them. */
export function stepStatus(state: TaskState): PlanStep['status'] {
  if (state === 'CREATED') return 'waiting';
  if (state === 'DISPATCHED' || state === 'RUNNING' || state === 'PAUSED') return 'running';
  return 'done';
}

/**
 * Seconds until the line's goods are picked: the running step's remaining time, the expected
 * durations of the steps not started, and one queue wait. Only steps up to the picking step
 * count — the bin's ride home does not hold the order. The queue waits do not add up: the work
 * ahead flows through the stations together, so the line reaches each after the same lines and
 * the slowest station's queue (the bottleneck) decides.
 */
export function remainingSeconds(steps: readonly PlanStep[]): number {
  const pick = steps.findIndex((s) => isPickingStep(s.kind));
  const counted = pick === -1 ? steps : steps.slice(0, pick + 1);
  let work = 0;
  let wait = 0;
  for (const s of counted) {
    if (s.status === 'running') work += runningRemaining(s.expected, s.elapsed);
    else if (s.status === 'waiting') {
      work += s.expected;
      wait = Math.max(wait, s.queueWait);
    }
  }
  return work + wait;
}

// ---- from picked to delivered -----------------------------------------------------------------

/** ms since the epoch; null where unknown. */
export interface OrderEta {
  pickedBy: number | null;
  packedBy: number | null;
  shipsAt: number | null;
  deliversBy: number | null;
}

export interface LineEtaInput {
  lineId: string;
  units: number;
  /** When the line's goods are (expected to be) picked; undefined: not known here (e.g. another site's floor). */
  pickedBy: number | undefined;
  /** How the line leaves: its site, the carrier sourcing chose and the distance to the customer. */
  shipping: { site: SiteProfile; carrier: CarrierProfile; distanceKm: number } | undefined;
  /** The line's promise (sourcing's deliver-by): the ETA of a line this core cannot see picked. */
  promiseDate: number | undefined;
}

/**
 * One shipment: packed-by = picked-by + pack time (the pack station's configured timing, the
 * same the pack service arms its deadline with); ships-at = the carrier's next departure (daily
 * cut-off, site local time) at or after packed-by; delivers-by = ships-at + transit days.
 */
export function shipmentEta(
  pickedBy: number,
  units: number,
  site: SiteProfile,
  carrier: CarrierProfile,
  distanceKm: number,
  packTiming: PackTiming = DEFAULT_PACK_TIMING,
): Required<{ [K in keyof OrderEta]: number }> {
  const packedBy = pickedBy + packDurationMs(units, packTiming);
  const shipsAt = nextDeparture(packedBy, site, carrier);
  return { pickedBy, packedBy, shipsAt, deliversBy: shipsAt + transitDays(distanceKm, carrier) * MS_PER_DAY };
}

/**
 * The order's ETA: its lines grouped into shipments (site and carrier); each field the latest over
 * the shipments, since the order is complete only when its last parcel is. Lines picked elsewhere
 * contribute their promise date to delivers-by. Undefined when no line has an estimate.
 */
export function orderEta(lines: readonly LineEtaInput[], packTiming: PackTiming = DEFAULT_PACK_TIMING): OrderEta | undefined {
  const groups = new Map<string, { pickedBy: number; units: number; distanceKm: number; site: SiteProfile; carrier: CarrierProfile }>();
  let promise: number | undefined;
  for (const l of lines) {
    if (l.pickedBy !== undefined && l.shipping) {
      const key = `${l.shipping.site.id}\u0000${l.shipping.carrier.id}`;
      const g = groups.get(key);
      if (g) {
        g.pickedBy = Math.max(g.pickedBy, l.pickedBy);
        g.units += l.units;
        g.distanceKm = Math.max(g.distanceKm, l.shipping.distanceKm);
      } else groups.set(key, { pickedBy: l.pickedBy, units: l.units, ...l.shipping });
    } else if (l.promiseDate !== undefined) promise = Math.max(promise ?? -Infinity, l.promiseDate);
  }
  if (groups.size === 0 && promise === undefined) return undefined;
  const eta: OrderEta = { pickedBy: null, packedBy: null, shipsAt: null, deliversBy: promise ?? null };
  const later = (a: number | null, b: number): number => (a === null ? b : Math.max(a, b));
  for (const g of groups.values()) {
    const s = shipmentEta(g.pickedBy, g.units, g.site, g.carrier, g.distanceKm, packTiming);
    eta.pickedBy = later(eta.pickedBy, s.pickedBy);
    eta.packedBy = later(eta.packedBy, s.packedBy);
    eta.shipsAt = later(eta.shipsAt, s.shipsAt);
    eta.deliversBy = later(eta.deliversBy, s.deliversBy);
  }
  return eta;
}

/** Whether two ETAs differ by at least `thresholdMs` in any field (or one knows a field the other does not). */
export function etaMoved(a: OrderEta | undefined, b: OrderEta | undefined, thresholdMs = 1000): boolean {
  if (a === undefined || b === undefined) return a !== b;
  return (['pickedBy', 'packedBy', 'shipsAt', 'deliversBy'] as const).some((k) => {
    const x = a[k];
    const y = b[k];
    return x === null || y === null ? x !== y : Math.abs(x - y) >= thresholdMs;
  });
}

/** How many locations the typical trip and crane durations are averaged over. */
const TYPICAL_SAMPLE = 64;

/** At most `n` items spread evenly over `xs` (all of them when there are fewer). */
function evenSample<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  const step = xs.length / n;
  return Array.from({ length: n }, (_, i) => xs[Math.floor(i * step)] as T);
}
