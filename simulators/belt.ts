/**
 * The physics of one conveyor: a main belt (a closed loop or a line) cut into zones at every
 * stop and spur junction, plus short spurs that divert totes off the belt to a stop or merge
 * them onto it from a stop. Pure of I/O: the conveyor device drives it with a clock.
 *
 * Rules a conveyor engineer would check:
 * - Speed: a tote crosses a zone in length / speed (belt speed, or the spur's own).
 * - Accumulation: a zone holds at most floor(length / pitch) totes; a tote that cannot move on
 *   waits at the zone end and the totes behind it queue up, so a full zone stops its upstream.
 *   Totes leave a zone in order and at least one pitch apart.
 * - Merge gaps: a tote joins the main belt (from a merge spur or straight from a stop) only
 *   into a free gap of `mergeGap` metres: nothing entered that zone within the gap behind it,
 *   and no tote on the upstream zone reaches the junction within the gap ahead of it. Belt
 *   traffic has priority. A loop never takes on its last free position (a full loop gridlocks).
 * - Divert decisions: at each junction a tote for that stop is diverted onto its spur; when the
 *   spur is full a loop sends it round again (a recirculation), a line makes it wait.
 * - Delivery onto an AS/RS port waits for room in the port's inbound queue.
 * - A blocked stop (its infeed jammed, its station closed) takes nothing: totes for it pass
 *   their junction as if its spur were full, and a tote already in its spur waits there.
 * - A tote's destination may change while it is still on the main belt (re-routing); once in
 *   its divert spur, or past the new stop on a line, it can no longer.
 *
 * Time is "belt time": seconds of belt motion at nominal speed. A jam or pause stops belt time,
 * a slowdown makes it run slower than the clock; every rule above is stated in belt time.
 */
import { beltDistance } from './kinematics.js';

export interface BeltSpec {
  kind: 'loop' | 'line';
  length: number;
  speed: number;
  stops: readonly { id: string; at: number }[];
  pitch?: number;
  branches?: readonly { id: string; kind: 'divert' | 'merge'; stop: string; at: number; length: number; speed?: number; capacity?: number; mergeGap?: number }[];
}

interface Zone {
  id: string;
  /** Main belt zones: start and end along the belt; spurs: the junction. */
  from: number;
  to: number;
  length: number;
  speed: number;
  capacity: number;
  kind: 'main' | 'divert' | 'merge';
  /** Spurs: the stop at the far end; merges also their gap. */
  stop?: string;
  mergeGap?: number;
  totes: Tote[];
  lastEntryBt: number;
  /** Totes leave a zone at least one pitch apart, as they entered it. */
  lastExitBt: number;
  /** Main zones: index of the next one downstream (undefined at the end of a line). */
  next?: number;
}

export interface Tote {
  readonly loadId: string;
  readonly from: string;
  /** Changes only through `retarget`. */
  to: string;
  zone: Zone | undefined;
  enteredBt: number;
  /** Waiting at its origin for a place on the belt or the merge spur. */
  queued: boolean;
  recirculations: number;
}

/** Delivery hook: true when the stop took the tote (an AS/RS port may be full). */
export type Deliver = (tote: Tote) => boolean;

const EPS = 1e-6;

export class Belt {
  readonly zones: Zone[] = [];
  private readonly main: Zone[] = [];
  private readonly divertOf = new Map<string, Zone>();
  private readonly mergeOf = new Map<string, Zone>();
  private readonly stopAt = new Map<string, number>();
  private readonly queue: Tote[] = [];
  private readonly blocked = new Set<string>();
  readonly pitch: number;
  /** Totes sent round the loop again because their divert spur was full. */
  recirculations = 0;

  constructor(private readonly spec: BeltSpec) {
    this.pitch = spec.pitch ?? 1;
    for (const s of spec.stops) this.stopAt.set(s.id, this.norm(s.at));
    const branches = spec.branches ?? [];
    const cuts = new Set<number>([...spec.stops.map((s) => this.norm(s.at)), ...branches.map((b) => this.norm(b.at))]);
    if (spec.kind === 'line') {
      cuts.add(0);
      cuts.add(spec.length);
    }
    const points = [...cuts].sort((a, b) => a - b);
    const n = spec.kind === 'loop' ? points.length : points.length - 1;
    for (let i = 0; i < n; i++) {
      const from = points[i] as number;
      const to = spec.kind === 'loop' ? (points[(i + 1) % points.length] as number) : (points[i + 1] as number);
      const length = spec.kind === 'loop' ? beltDistance(from, to, spec.length, 'loop') || spec.length : to - from;
      this.main.push(this.zone(`main@${from}`, 'main', from, to, length, spec.speed));
    }
    this.main.forEach((z, i) => {
      if (spec.kind === 'loop') z.next = (i + 1) % this.main.length;
      else if (i + 1 < this.main.length) z.next = i + 1;
    });
    for (const b of branches) {
      const at = this.norm(b.at);
      const z = this.zone(b.id, b.kind, at, at, b.length, b.speed ?? spec.speed, b.capacity);
      z.stop = b.stop;
      if (b.kind === 'merge') {
        z.mergeGap = b.mergeGap ?? this.pitch;
        this.mergeOf.set(b.stop, z);
      } else this.divertOf.set(b.stop, z);
    }
    this.zones.push(...this.main, ...this.divertOf.values(), ...this.mergeOf.values());
  }

  /** Positions the main belt holds in all; a loop keeps one of them free. */
  get mainCapacity(): number {
    return this.main.reduce((n, z) => n + z.capacity, 0);
  }

  get totesOnBelt(): number {
    return this.zones.reduce((n, z) => n + z.totes.length, 0);
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  /** Why a transport cannot run on this belt, or undefined. */
  problem(from: string, to: string): string | undefined {
    if (!this.stopAt.has(from)) return `unknown stop ${from}`;
    if (!this.stopAt.has(to)) return `unknown stop ${to}`;
    if (from === to) return 'from and to are the same stop';
    if (this.spec.kind === 'line' && this.exitAt(to) <= this.entryAt(from)) return `a line conveyor cannot carry from ${from} back to ${to}`;
    return undefined;
  }

  /** Belt metres from the origin's entry to the destination's exit (spurs not included). */
  mainDistance(from: string, to: string): number {
    return beltDistance(this.entryAt(from), this.exitAt(to), this.spec.length, this.spec.kind);
  }

  /** Blocks or unblocks a stop (see the class comment). */
  setBlocked(stop: string, blocked: boolean): void {
    if (blocked) this.blocked.add(stop);
    else this.blocked.delete(stop);
  }

  isBlocked(stop: string): boolean {
    return this.blocked.has(stop);
  }

  /** Sends a tote to another stop; the reason when it cannot go there any more. */
  retarget(tote: Tote, to: string): string | undefined {
    if (!this.stopAt.has(to)) return `unknown stop ${to}`;
    if (to === tote.to) return undefined;
    const z = tote.zone;
    if (z?.kind === 'divert') return `${tote.loadId} is already in the spur to ${tote.to}`;
    if (this.spec.kind === 'line') {
      // On a line the tote can still leave at any junction it has not passed.
      const decidesAt = z === undefined ? this.entryAt(tote.from) : z.kind === 'merge' ? z.from : z.to;
      const exit = this.exitAt(to);
      if (exit < decidesAt - EPS || (z?.kind !== 'main' && exit <= decidesAt + EPS)) return `${tote.loadId} is past ${to}`;
    } else if (to === tote.from && z === undefined) {
      return 'from and to are the same stop';
    }
    tote.to = to;
    return undefined;
  }

  /** A tote appears at its origin stop; it enters on a later `step`. */
  add(loadId: string, from: string, to: string): Tote {
    const tote: Tote = { loadId, from, to, zone: undefined, enteredBt: 0, queued: true, recirculations: 0 };
    this.queue.push(tote);
    return tote;
  }

  /** Takes a tote off wherever it is (a canceled transport). */
  remove(tote: Tote): void {
    const qi = this.queue.indexOf(tote);
    if (qi >= 0) this.queue.splice(qi, 1);
    if (tote.zone !== undefined) {
      const i = tote.zone.totes.indexOf(tote);
      if (i >= 0) tote.zone.totes.splice(i, 1);
      tote.zone = undefined;
    }
  }

  /**
   * Moves every tote that can move at belt time `bt`, as often as moves free room for others.
   * `deliver` is asked when a tote reaches its stop. Returns the totes delivered.
   */
  step(bt: number, deliver: Deliver): Tote[] {
    const delivered: Tote[] = [];
    for (let changed = true; changed; ) {
      changed = false;
      // Downstream first, so a zone's head leaves before the one behind tries to enter it.
      for (const z of [...this.divertOf.values(), ...[...this.main].reverse(), ...this.mergeOf.values()]) {
        const head = z.totes[0];
        if (head === undefined || bt < head.enteredBt + z.length / z.speed - EPS || bt < z.lastExitBt + this.pitch / z.speed - EPS) continue;
        if (this.advance(head, z, bt, deliver, delivered)) changed = true;
      }
      for (const tote of [...this.queue]) {
        if (this.infeed(tote, bt)) changed = true;
      }
    }
    return delivered;
  }

  /** The next belt time at which something may become possible without any other event. */
  nextEvent(bt: number): number | undefined {
    let best = Infinity;
    const consider = (t: number): void => {
      if (t > bt + EPS && t < best) best = t;
    };
    for (const z of this.zones) {
      const head = z.totes[0];
      if (head !== undefined) consider(head.enteredBt + z.length / z.speed);
      consider(z.lastEntryBt + this.pitch / z.speed);
      if (head !== undefined) consider(z.lastExitBt + this.pitch / z.speed);
      for (const m of this.mergeOf.values()) consider(z.lastEntryBt + (m.mergeGap ?? this.pitch) / z.speed);
    }
    // A merge waiting for the upstream tote to pass the junction.
    for (const z of this.main) {
      const head = z.totes[0];
      if (head !== undefined) for (const m of this.mergeOf.values()) consider(head.enteredBt + z.length / z.speed + (m.mergeGap ?? this.pitch) / z.speed);
    }
    return best === Infinity ? undefined : best;
  }

  /** Where a tote is along the main belt (spurs and queues report their junction or stop). */
  positionOf(tote: Tote, bt: number): number {
    const z = tote.zone;
    if (z === undefined) return this.stopAt.get(tote.from) ?? 0;
    if (z.kind !== 'main') return z.from;
    const along = Math.min(z.length, Math.max(0, (bt - tote.enteredBt) * z.speed));
    return this.spec.kind === 'loop' ? (z.from + along) % this.spec.length : z.from + along;
  }

  /** True when the tote is crossing a zone (not waiting at its end or at its origin). */
  isMoving(tote: Tote, bt: number): boolean {
    const z = tote.zone;
    return z !== undefined && bt < tote.enteredBt + z.length / z.speed - EPS;
  }

  private advance(tote: Tote, z: Zone, bt: number, deliver: Deliver, delivered: Tote[]): boolean {
    if (z.kind === 'divert') return this.tryDeliver(tote, bt, deliver, delivered);
    if (z.kind === 'merge') {
      const target = this.mainStartingAt(z.from);
      return target !== undefined && this.canMerge(target, z.mergeGap ?? this.pitch, bt) && this.move(tote, target, bt);
    }
    // End of a main zone: the tote's divert junction or stop, or on downstream.
    const spur = this.divertOf.get(tote.to);
    const atSpur = spur !== undefined && spur.from === z.to;
    const atStop = spur === undefined && this.stopAt.get(tote.to) === z.to;
    if (atSpur && !this.blocked.has(tote.to) && this.canEnter(spur, this.pitch, bt)) return this.move(tote, spur, bt);
    if (atStop && this.tryDeliver(tote, bt, deliver, delivered)) return true;
    if (atSpur || atStop) {
      // Its stop cannot take it now: a line holds it there, a loop sends it round again.
      if (this.spec.kind === 'line') return false;
      const round = this.nextOf(z);
      if (round === undefined || !this.canEnter(round, this.pitch, bt)) return false;
      tote.recirculations++;
      this.recirculations++;
      return this.move(tote, round, bt);
    }
    const next = this.nextOf(z);
    return next !== undefined && this.canEnter(next, this.pitch, bt) && this.move(tote, next, bt);
  }

  private infeed(tote: Tote, bt: number): boolean {
    const spur = this.mergeOf.get(tote.from);
    if (spur !== undefined) {
      if (!this.canEnter(spur, this.pitch, bt)) return false;
      this.queue.splice(this.queue.indexOf(tote), 1);
      tote.queued = false;
      return this.move(tote, spur, bt);
    }
    const target = this.mainStartingAt(this.stopAt.get(tote.from) ?? -1);
    if (target === undefined || !this.canMerge(target, this.pitch, bt)) return false;
    this.queue.splice(this.queue.indexOf(tote), 1);
    tote.queued = false;
    return this.move(tote, target, bt);
  }

  private tryDeliver(tote: Tote, bt: number, deliver: Deliver, delivered: Tote[]): boolean {
    if (this.blocked.has(tote.to) || !deliver(tote)) return false;
    if (tote.zone !== undefined) tote.zone.lastExitBt = bt;
    this.remove(tote);
    tote.enteredBt = bt;
    delivered.push(tote);
    return true;
  }

  private canEnter(z: Zone, spacing: number, bt: number): boolean {
    return z.totes.length < z.capacity && bt >= z.lastEntryBt + spacing / z.speed - EPS;
  }

  /** Joining the main belt from outside: a free gap both ways, and never the loop's last position. */
  private canMerge(target: Zone, gap: number, bt: number): boolean {
    if (this.spec.kind === 'loop' && this.main.reduce((n, z) => n + z.totes.length, 0) + 1 >= this.mainCapacity) return false;
    if (!this.canEnter(target, gap, bt)) return false;
    const upstream = this.main.find((z) => z.next !== undefined && this.main[z.next] === target);
    const head = upstream?.totes[0];
    if (upstream !== undefined && head !== undefined && head.enteredBt + upstream.length / upstream.speed < bt + gap / target.speed - EPS && this.divertOf.get(head.to)?.from !== upstream.to) return false;
    return true;
  }

  private move(tote: Tote, to: Zone, bt: number): boolean {
    if (tote.zone !== undefined) {
      tote.zone.totes.shift();
      tote.zone.lastExitBt = bt;
    }
    to.totes.push(tote);
    to.lastEntryBt = bt;
    tote.zone = to;
    tote.enteredBt = bt;
    return true;
  }

  private nextOf(z: Zone): Zone | undefined {
    return z.next === undefined ? undefined : this.main[z.next];
  }

  private mainStartingAt(at: number): Zone | undefined {
    return this.main.find((z) => Math.abs(z.from - at) < EPS);
  }

  /** Where a tote from `stop` joins the main belt. */
  private entryAt(stop: string): number {
    return this.mergeOf.get(stop)?.from ?? this.stopAt.get(stop) ?? 0;
  }

  /** Where a tote for `stop` leaves the main belt. */
  private exitAt(stop: string): number {
    return this.divertOf.get(stop)?.from ?? this.stopAt.get(stop) ?? 0;
  }

  private norm(at: number): number {
    return this.spec.kind === 'loop' ? ((at % this.spec.length) + this.spec.length) % this.spec.length : at;
  }

  private zone(id: string, kind: Zone['kind'], from: number, to: number, length: number, speed: number, capacity?: number): Zone {
    return { id, kind, from, to, length, speed, capacity: capacity ?? Math.max(1, Math.floor(length / this.pitch + EPS)), totes: [], lastEntryBt: -Infinity, lastExitBt: -Infinity };
  }
}
