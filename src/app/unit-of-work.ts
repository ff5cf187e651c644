import type { Store } from '../ports.js';

/**
 * One store transaction plus the side effects that may only happen once it committed (live
 * events, publisher kicks). If the transaction throws, the effects are dropped with it.
 */
export function runInTransaction<T>(store: Store, fn: (afterCommit: (effect: () => void) => void) => T): T {
  return withEffectsAfter((body) => store.tx(body), fn);
}

function withEffectsAfter<T>(commit: (body: () => T) => T, fn: (afterCommit: (effect: () => void) => void) => T): T {
  const effects: (() => void)[] = [];
  const result = commit(() => fn((effect) => effects.push(effect)));
  for (const effect of effects) effect();
  return result;
}

/**
 * `runInTransaction` for applying what a device reported (task progress): the commit does not
 * wait for the disk (Store.txUnsynced) unless it queued device commands. A report lost in a
 * power cut is not lost information: after a restart the core asks every vehicle for its state
 * (VDA `stateRequest`) and fixed equipment re-sends its job states, and applying a report is
 * idempotent. Anything acknowledged to a person or a channel still goes through `tx`.
 *
 * Why: at 200 lines/s every trip's first report (DISPATCHED -> RUNNING), every pick and every
 * drop was an fsync on the core's thread, together as much time as the dispatch passes.
 * Inside another transaction it is a savepoint of that one, durable as that one is.
 */
export function runInReportTransaction<T>(store: Store, fn: (afterCommit: (effect: () => void) => void) => T): T {
  return withEffectsAfter((body) => store.txUnsynced(body), fn);
}
