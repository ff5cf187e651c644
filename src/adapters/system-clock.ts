import type { Clock } from '../ports.js';

/** Wall-clock time for live runs. Simulation plugs in a virtual clock instead. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
};
