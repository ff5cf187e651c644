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
 * Time to cover `distance` from standstill to standstill with a trapezoidal velocity profile:
 * accelerate, cruise at maxSpeed, decelerate. Short moves never reach maxSpeed and become a
 * triangle profile.
 */
export function trapezoidTime(distance: number, limits: AxisLimits): number {
  const d = Math.abs(distance);
  if (d === 0) return 0;
  const { maxSpeed: v, accel: a } = limits;
  const rampDistance = (v * v) / a; // both ramps together
  if (d >= rampDistance) return d / v + v / a;
  return 2 * Math.sqrt(d / a);
}

/** Distance covered and speed at time `t` into a trapezoidal move over `distance`. */
export function trapezoidAt(distance: number, limits: AxisLimits, t: number): { position: number; velocity: number } {
  const d = Math.abs(distance);
  const total = trapezoidTime(d, limits);
  if (t <= 0 || d === 0) return { position: 0, velocity: 0 };
  if (t >= total) return { position: d, velocity: 0 };
  const a = limits.accel;
  const peak = Math.min(limits.maxSpeed, Math.sqrt(d * a));
  const rampTime = peak / a;
  if (t <= rampTime) return { position: 0.5 * a * t * t, velocity: a * t };
  const rampDistance = 0.5 * peak * rampTime;
  const cruiseTime = total - 2 * rampTime;
  if (t <= rampTime + cruiseTime) return { position: rampDistance + peak * (t - rampTime), velocity: peak };
  const left = total - t;
  return { position: d - 0.5 * a * left * left, velocity: a * left };
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
