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
  if (!(restored as { can(e: unknown): boolean }).can(event)) {
    return { changed: false, from: current.value, to: current.value, next: current };
  }
  const [nextSnapshot] = transition(machine, restored, event);
  const next = persist(nextSnapshot);
  const changed = next.value !== current.value || JSON.stringify(next.context) !== JSON.stringify(current.context);
  return { changed, from: current.value, to: next.value, next };
}

function persist<M extends AnyStateMachine>(snapshot: SnapshotFrom<M>): PersistedMachine<ContextOf<M>> {
  const s = snapshot as unknown as { value: unknown; context: ContextOf<M> };
  if (typeof s.value !== 'string') throw new TypeError('Pickwire machines are flat: a state value must be a string');
  return { value: s.value, context: s.context };
}
