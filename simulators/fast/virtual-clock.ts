/**
 * The virtual clock of a discrete-event run. One time line serves both sides of the process:
 * `core` is the core's Clock port (`setTimer(ms, fn)`) and `sim` the simulators' SimClock
 * (`setTimer(fn, ms)`). Timers live in a binary heap ordered by due time, then by the order
 * they were set, so two runs that set the same timers fire them in the same order.
 */
import type { Clock } from '../../src/index.js';
import type { SimClock } from '../clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  canceled: boolean;
}

export class VirtualClock {
  private current: number;
  private seq = 0;
  private heap: Timer[] = [];
  private live = 0;
  /** The core's view: `setTimer(ms, fn)`. */
  readonly core: Clock;
  /** The simulators' view: `setTimer(fn, ms)`. */
  readonly sim: SimClock;

  constructor(start: number) {
    this.current = start;
    this.core = { now: () => this.current, setTimer: (ms, fn) => this.schedule(ms, fn) };
    this.sim = { now: () => this.current, setTimer: (fn, ms) => this.schedule(ms, fn) };
  }

  now(): number {
    return this.current;
  }

  /** Timers set and neither fired nor canceled. */
  get pending(): number {
    return this.live;
  }

  schedule(ms: number, fn: () => void): () => void {
    // A NaN or negative delay fires at once rather than poisoning the heap's order.
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const t: Timer = { at: this.current + delay, seq: this.seq++, fn, canceled: false };
    this.push(t);
    this.live++;
    return () => {
      if (t.canceled) return;
      t.canceled = true;
      this.live--;
    };
  }

  /** Due time of the next live timer, or undefined when none is left. */
  peek(): number | undefined {
    this.dropCanceled();
    return this.heap[0]?.at;
  }

  /**
   * Fires the next timer if it is due at or before `until`, moving time to it; false when there
   * is none. Time never runs backwards.
   */
  fireNext(until: number): boolean {
    this.dropCanceled();
    const t = this.heap[0];
    if (t === undefined || t.at > until) return false;
    this.pop();
    t.canceled = true;
    this.live--;
    if (t.at > this.current) this.current = t.at;
    t.fn();
    return true;
  }

  /** Moves time forward to `to` without firing anything (the end of a run). */
  advanceTo(to: number): void {
    if (to > this.current) this.current = to;
  }

  private dropCanceled(): void {
    while (this.heap.length > 0 && (this.heap[0] as Timer).canceled) this.pop();
  }

  private static before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Timer;
      if (!VirtualClock.before(t, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = t;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as Timer;
    if (h.length === 0) return;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && VirtualClock.before(h[r] as Timer, h[l] as Timer) ? r : l;
      if (!VirtualClock.before(h[child] as Timer, last)) break;
      h[i] = h[child] as Timer;
      i = child;
    }
    h[i] = last;
  }
}
