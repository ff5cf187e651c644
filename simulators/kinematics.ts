/**
 * Pure motion arithmetic shared by the simulated devices and by anything that wants to predict
 * their timing (ETAs, sizing). No clocks, no I/O: every function maps numbers to numbers.
 * Units: metres, seconds, radians.
 */

export interface AxisLimits {
  /** Maximum speed, m/s. */
  maxSpeed: number;
  /** Acceleration, m/s^2; deceleration is taken equal to it. */
  accel: number;
}

/**
 * The phases of a move over `distance` that starts at speed `v0` and ends standing: accelerate
 * to `peak` (at most maxSpeed), cruise, decelerate. A move from standstill is the classic
 * trapezoid, or a triangle when it is too short to reach maxSpeed. One that starts too fast to
 * stop within the distance at `accel` brakes harder, just enough.
 */
interface Phases {
  d: number;
  v0: number;
  accel: number;
  peak: number;
  /** Deceleration of the last phase (accel unless it must brake harder). */
  brake: number;
  upTime: number;
  upDistance: number;
  cruiseTime: number;
  cruiseDistance: number;
  total: number;
}

function phases(distance: number, limits: AxisLimits, v0: number): Phases {
  const d = Math.abs(distance);
  const a = limits.accel;
  const start = Math.max(0, Math.min(v0, limits.maxSpeed));
  if (d === 0) return { d, v0: 0, accel: a, peak: 0, brake: a, upTime: 0, upDistance: 0, cruiseTime: 0, cruiseDistance: 0, total: 0 };
  if ((start * start) / (2 * a) >= d) {
    const brake = (start * start) / (2 * d);
    return { d, v0: start, accel: a, peak: start, brake, upTime: 0, upDistance: 0, cruiseTime: 0, cruiseDistance: 0, total: start / brake };
  }
  const peak = Math.min(limits.maxSpeed, Math.sqrt(a * d + (start * start) / 2));
  const upTime = (peak - start) / a;
  const upDistance = (peak * peak - start * start) / (2 * a);
  const cruiseDistance = Math.max(0, d - upDistance - (peak * peak) / (2 * a));
  const cruiseTime = cruiseDistance / peak;
  return { d, v0: start, accel: a, peak, brake: a, upTime, upDistance, cruiseTime, cruiseDistance, total: upTime + cruiseTime + peak / a };
}

/**
 * Time to cover `distance` with a trapezoidal velocity profile: accelerate, cruise at maxSpeed,
 * decelerate to a standstill. Short moves never reach maxSpeed and become a triangle profile.
 * `v0` is the speed at the start (0: from standstill).
 */
export function trapezoidTime(distance: number, limits: AxisLimits, v0 = 0): number {
  return phases(distance, limits, v0).total;
}

/** Distance covered and speed at time `t` into a trapezoidal move over `distance` (starting at `v0`). */
export function trapezoidAt(distance: number, limits: AxisLimits, t: number, v0 = 0): { position: number; velocity: number } {
  const ph = phases(distance, limits, v0);
  if (t <= 0 || ph.d === 0) return { position: 0, velocity: ph.v0 };
  if (t >= ph.total) return { position: ph.d, velocity: 0 };
  if (t <= ph.upTime) return { position: ph.v0 * t + 0.5 * ph.accel * t * t, velocity: ph.v0 + ph.accel * t };
  if (t <= ph.upTime + ph.cruiseTime) return { position: ph.upDistance + ph.peak * (t - ph.upTime), velocity: ph.peak };
  const left = ph.total - t;
  return { position: ph.d - 0.5 * ph.brake * left * left, velocity: ph.brake * left };
}

/**
 * The inverse of `trapezoidAt`: seconds into a trapezoidal move over `distance` (starting at
 * `v0`) at which the position `along` is reached, clamped to the move. A simulated robot
 * schedules its arrival at each node of a move from this instead of integrating its motion in
 * small ticks.
 */
export function trapezoidTimeTo(distance: number, limits: AxisLimits, along: number, v0 = 0): number {
  const ph = phases(distance, limits, v0);
  if (along <= 0 || ph.d === 0) return 0;
  if (along >= ph.d) return ph.total;
  if (along <= ph.upDistance) return ph.upTime === 0 ? 0 : (Math.sqrt(ph.v0 * ph.v0 + 2 * ph.accel * along) - ph.v0) / ph.accel;
  if (along <= ph.upDistance + ph.cruiseDistance) return ph.upTime + (along - ph.upDistance) / ph.peak;
  return ph.total - Math.sqrt((2 * (ph.d - along)) / ph.brake);
}

/** Smallest signed angle from `from` to `to`, in (-pi, pi]. */
export function angleDelta(from: number, to: number): number {
  let d = (to - from) % (2 * Math.PI);
  if (d <= -Math.PI) d += 2 * Math.PI;
  if (d > Math.PI) d -= 2 * Math.PI;
  return d;
}

/** Time to turn on the spot from one heading to another at `secondsPerRevolution`. */
export function turnTime(from: number, to: number, secondsPerRevolution: number): number {
  return (Math.abs(angleDelta(from, to)) / (2 * Math.PI)) * secondsPerRevolution;
}

export interface Point {
  x: number;
  y: number;
}

export function distance(a: Point, b: Point): number {
  return Math.hypot(b.x - a.x, b.y - a.y);
}

export function heading(a: Point, b: Point): number {
  return Math.atan2(b.y - a.y, b.x - a.x);
}

/** Point at `along` metres down a polyline (clamped to its ends). */
export function pointAlong(points: readonly Point[], along: number): Point {
  let left = along;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as Point;
    const b = points[i] as Point;
    const len = distance(a, b);
    if (left <= len) {
      const f = len === 0 ? 1 : left / len;
      return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
    }
    left -= len;
  }
  const last = points[points.length - 1];
  if (last === undefined) throw new RangeError('empty polyline');
  return last;
}

/** A position in an AS/RS aisle: metres from the port end, and storage level (0 = port level). */
export interface RackPoint {
  position: number;
  level: number;
}

export interface CraneSpec {
  levelHeight: number;
  travel: AxisLimits;
  lift: AxisLimits;
  /** Seconds to load or unload one bin. */
  handlingTime: number;
}

/** Reference defaults (DESIGN.md §5): shuttle 2 m/s at 1 m/s^2, lift 3 m/s at 3 m/s^2, 2 s handling. */
export const DEFAULT_CRANE: Omit<CraneSpec, 'levelHeight'> = {
  travel: { maxSpeed: 2, accel: 1 },
  lift: { maxSpeed: 3, accel: 3 },
  handlingTime: 2,
};

/**
 * Move time between two rack points. Travel and lift axes run at the same time, so the slower
 * axis decides (the Chebyshev travel model of FEM 9.851 cycle-time calculations).
 */
export function craneMoveTime(from: RackPoint, to: RackPoint, spec: CraneSpec): number {
  const horizontal = trapezoidTime(to.position - from.position, spec.travel);
  const vertical = trapezoidTime((to.level - from.level) * spec.levelHeight, spec.lift);
  return Math.max(horizontal, vertical);
}

/** Ports sit at the aisle front on the bottom level. */
export const PORT_POINT: RackPoint = { position: 0, level: 0 };

/** Retrieve: go to the location, load, bring the bin to the port, unload onto the port. */
export function retrieveTime(start: RackPoint, location: RackPoint, spec: CraneSpec): number {
  return craneMoveTime(start, location, spec) + spec.handlingTime + craneMoveTime(location, PORT_POINT, spec) + spec.handlingTime;
}

/** Store: go to the port, load the bin there, take it to the location, unload. */
export function storeTime(start: RackPoint, location: RackPoint, spec: CraneSpec): number {
  return craneMoveTime(start, PORT_POINT, spec) + spec.handlingTime + craneMoveTime(PORT_POINT, location, spec) + spec.handlingTime;
}

/**
 * Belt distance from one stop to another. A loop only runs one way, so going "back" means
 * going round; a line cannot carry a tote backwards at all.
 */
export function beltDistance(fromAt: number, toAt: number, length: number, kind: 'loop' | 'line'): number {
  if (kind === 'line') {
    if (toAt < fromAt) throw new RangeError(`a line conveyor cannot move from ${fromAt} m back to ${toAt} m`);
    return toAt - fromAt;
  }
  const d = (toAt - fromAt) % length;
  return d < 0 ? d + length : d;
}
