/**
 * Analytic upper bounds on what a layout can deliver, whatever the control policy. A simulation
 * that beats one of them is broken (teleporting robots, stations without service time), so the
 * runner reports them next to the measured KPIs and its physical-sanity test checks them.
 *
 * Every bound is strict: it leaves out waiting, congestion and empty travel, so real runs stay
 * below it. Units/h is bounded by picking capacity; lines/h by the AMR fleet's shortest possible
 * trip and by the AS/RS cranes' loaded moves.
 */
import type { SiteLayout } from '../../src/index.js';
import { craneMoveTime, DEFAULT_CRANE, PORT_POINT, trapezoidTime, type CraneSpec } from '../kinematics.js';

export interface Bound {
  name: string;
  value: number;
  unit: string;
}

export interface BoundOptions {
  /** Operator seconds per unit at a pack station without its own `pickTime` (DESIGN §5: 10). */
  stationPickSeconds?: number;
  /** Seconds an AMR needs to lift or set down its load (DESIGN §5: 3). */
  amrHandlingSeconds?: number;
  /** AMR top speed and acceleration when the layout gives none (DESIGN §5: 1.5 m/s, 0.5 m/s^2). */
  amrMaxSpeed?: number;
  amrAcceleration?: number;
  /** Robots in the run, when the runner overrides the layout's fleet (`--robots N`). */
  robots?: number;
}

const DEFAULTS = { stationPickSeconds: 10, amrHandlingSeconds: 3, amrMaxSpeed: 1.5, amrAcceleration: 0.5 };

/** Units per hour all pick stations together can pick: stations x 3600 / seconds per unit. */
export function pickCapacityUnitsPerHour(layout: SiteLayout, opts: BoundOptions = {}): number {
  const defaultPick = opts.stationPickSeconds ?? DEFAULTS.stationPickSeconds;
  const pack = layout.stations.filter((s) => s.kind === 'pack').reduce((sum, s) => sum + 3600 / (s.pickTime ?? defaultPick), 0);
  const arms = layout.devices.arms.reduce((sum, a) => sum + 3600 / a.pickTime, 0);
  return pack + arms;
}

/**
 * Lines per hour the AMR fleet can serve at best: each line is one trip that lifts a load at a
 * storage node and sets it down at a pack station, so it takes two handlings plus the travel of
 * the straight line from the nearest storage node to the nearest station at full speed, and back
 * to storage for the next line. Undefined when the layout has no AMR storage or no pack station.
 */
export function amrFleetLinesPerHour(layout: SiteLayout, opts: BoundOptions = {}): number | undefined {
  const robots = opts.robots ?? layout.devices.amrs.length;
  const nodes = new Map(layout.graph.nodes.map((n) => [n.id, n]));
  const storage = layout.locations.flatMap((l) => (l.zone === 'amr' && l.nodeId !== undefined ? [nodes.get(l.nodeId)] : [])).filter((n) => n !== undefined);
  const stations = layout.stations.flatMap((s) => (s.kind === 'pack' && s.nodeId !== undefined ? [nodes.get(s.nodeId)] : [])).filter((n) => n !== undefined);
  if (robots === 0 || storage.length === 0 || stations.length === 0) return undefined;
  let nearest = Infinity;
  for (const a of storage) for (const b of stations) nearest = Math.min(nearest, Math.hypot(a.x - b.x, a.y - b.y));
  const fastest = layout.devices.amrs.reduce((v, a) => Math.max(v, a.maxSpeed ?? 0), 0) || (opts.amrMaxSpeed ?? DEFAULTS.amrMaxSpeed);
  const accel = layout.devices.amrs.reduce((v, a) => Math.max(v, a.acceleration ?? 0), 0) || (opts.amrAcceleration ?? DEFAULTS.amrAcceleration);
  const trip = 2 * (opts.amrHandlingSeconds ?? DEFAULTS.amrHandlingSeconds) + 2 * trapezoidTime(nearest, { maxSpeed: fastest, accel });
  return (robots * 3600) / trip;
}

export function craneOf(asrs: SiteLayout['devices']['asrs'][number]): CraneSpec {
  return { ...DEFAULT_CRANE, ...(asrs.crane ?? {}), levelHeight: asrs.levelHeight };
}

/**
 * Lines per hour the AS/RS aisles can serve at best: every line takes its bin out to a port and
 * back, so the aisle's crane makes at least one loaded move each way and four handlings (empty
 * moves can in the best case be zero, when a store and the next retrieve share a spot). Taken at
 * the aisle's nearest bin, so no stocking or popularity can beat it.
 */
export function asrsLinesPerHour(layout: SiteLayout): number | undefined {
  let total = 0;
  for (const asrs of layout.devices.asrs) {
    const crane = craneOf(asrs);
    const bins = layout.locations.filter((l) => l.zone === 'asrs' && l.asrsId === asrs.id);
    if (bins.length === 0) continue;
    let best = Infinity;
    for (const b of bins) {
      const point = { position: b.position ?? 0, level: b.level ?? 0 };
      best = Math.min(best, craneMoveTime(point, PORT_POINT, crane) + craneMoveTime(PORT_POINT, point, crane) + 4 * crane.handlingTime);
    }
    total += 3600 / best;
  }
  return total > 0 ? total : undefined;
}

/**
 * Mean crane seconds per line of an aisle if bins are used evenly: single-command retrieve and
 * store from the port. Not a bound (popular bins near the port are faster); sizing information.
 */
export function asrsMeanSecondsPerLine(layout: SiteLayout, asrsId: string): number | undefined {
  const asrs = layout.devices.asrs.find((a) => a.id === asrsId);
  if (!asrs) return undefined;
  const crane = craneOf(asrs);
  const bins = layout.locations.filter((l) => l.zone === 'asrs' && l.asrsId === asrsId);
  if (bins.length === 0) return undefined;
  let sum = 0;
  for (const b of bins) {
    const point = { position: b.position ?? 0, level: b.level ?? 0 };
    sum += 2 * (craneMoveTime(PORT_POINT, point, crane) + craneMoveTime(point, PORT_POINT, crane)) + 4 * crane.handlingTime;
  }
  return sum / bins.length;
}

/** All bounds that apply to a layout, in the shape `SimReport.bounds` takes. */
export function layoutBounds(layout: SiteLayout, opts: BoundOptions = {}): Bound[] {
  const bounds: Bound[] = [{ name: 'pick capacity (stations x 3600 / s per unit)', value: pickCapacityUnitsPerHour(layout, opts), unit: 'units/h' }];
  const fleet = amrFleetLinesPerHour(layout, opts);
  if (fleet !== undefined) bounds.push({ name: 'AMR fleet (shortest trip, no waiting)', value: fleet, unit: 'lines/h' });
  const asrs = asrsLinesPerHour(layout);
  if (asrs !== undefined) bounds.push({ name: 'AS/RS cranes (loaded moves + handling)', value: asrs, unit: 'lines/h' });
  // Rounded up, so rounding never makes a legitimate run look like it beat its bound.
  return bounds.map((b) => ({ ...b, value: Math.ceil(b.value * 10) / 10 }));
}

/** The tightest units/h bound: what the physical-sanity check compares units/h against. */
export function unitsPerHourBound(layout: SiteLayout, opts: BoundOptions = {}): number {
  return pickCapacityUnitsPerHour(layout, opts);
}
