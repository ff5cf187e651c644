/**
 * Runs machines the way DESIGN §3 prescribes: restore a persisted snapshot, apply one event
 * with xstate's pure `transition()`, and hand back the next persisted snapshot. No live actors,
 * no timers: deterministic and replayable, ~0.3 KB per stored line.
 */
import { initialTransition, transition, type AnyStateMachine, type EventFromLogic, type InputFrom, type SnapshotFrom } from 'xstate';
import type { PersistedMachine } from './records.js';

export interface TransitionResult<TContext> {
  /** False when the machine ignored the event in its current state. */
  changed: boolean;
  from: string;
  to: string;
  next: PersistedMachine<TContext>;
}

type ContextOf<M extends AnyStateMachine> = SnapshotFrom<M> extends { context: infer C } ? C : never;

export function startMachine<M extends AnyStateMachine>(machine: M, input: InputFrom<M>): PersistedMachine<ContextOf<M>> {
  const [snapshot] = initialTransition(machine, input);
  return persist(snapshot);
}

export function applyEvent<M extends AnyStateMachine>(
  machine: M,
  current: PersistedMachine<ContextOf<M>>,
  event: EventFromLogic<M>,
): TransitionResult<ContextOf<M>> {
  const restored = machine.resolveState({ value: current.value, context: current.context }) as SnapshotFrom<M>;
  // An event the state does not handle leaves value and context as they were: no separate
  // `can()` check, which would compute the same transition a second time.
  const [nextSnapshot] = transition(machine, restored, event);
  const next = persist(nextSnapshot);
  const changed = next.value !== current.value || !sameContext(next.context, current.context);
  return { changed, from: current.value, to: next.value, next };
}

/** Machine contexts are flat records of primitives: compare them field by field. */
function sameContext(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k]);
}

function persist<M extends AnyStateMachine>(snapshot: SnapshotFrom<M>): PersistedMachine<ContextOf<M>> {
  const s = snapshot as unknown as { value: unknown; context: ContextOf<M> };
  if (typeof s.value !== 'string') throw new TypeError('Pickwire machines are flat: a state value must be a string');
  return { value: s.value, context: s.context };
}
