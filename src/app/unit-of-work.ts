import type { Store } from '../ports.js';

/**
 * One store transaction plus the side effects that may only happen once it committed (live
 * events, publisher kicks). If the transaction throws, the effects are dropped with it.
 */
export function runInTransaction<T>(store: Store, fn: (afterCommit: (effect: () => void) => void) => T): T {
  const effects: (() => void)[] = [];
  const result = store.tx(() => fn((effect) => effects.push(effect)));
  for (const effect of effects) effect();
  return result;
}
