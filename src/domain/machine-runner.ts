/**
 * Runs machines the way DESIGN §3 prescribes: restore a persisted snapshot, apply one event
 * with the machine's pure transition, and hand back the next persisted snapshot. No live actors,
 * no timers: deterministic and replayable, ~0.3 KB per stored line.
 *
 * The machines' xstate `setup()` definitions are the source of truth. For speed, each is read once
 * into a transition table (compiled-machine.ts) that gives the same results (machine-runner.test.ts
 * compares them with xstate over random event sequences); a machine the table cannot express runs
 * through xstate itself (`startWithXstate`, `applyWithXstate`).
 */
import { createActor, type ActorScope, type AnyStateMachine, type EventFromLogic, type InputFrom, type SnapshotFrom } from 'xstate';
import { compileMachine, type CompiledMachine } from './compiled-machine.js';
import type { PersistedMachine } from './records.js';

export interface TransitionResult<TContext> {
  /** False when the machine ignored the event in its current state. */
  changed: boolean;
  from: string;
  to: string;
  next: PersistedMachine<TContext>;
}

type ContextOf<M extends AnyStateMachine> = SnapshotFrom<M> extends { context: infer C } ? C : never;

/**
 * xstate's free `transition()` / `initialTransition()` build a throw-away actor for every call
 * (which also evaluates the machine's initial context): measured at ~12% of the intake's CPU.
 * Pickwire's machines only assign context — no spawned children, no side-effecting actions — so
 * one inert scope per machine serves every call; actions other than `assign` are never executed.
 */
type ScopeOf<M extends AnyStateMachine> = ActorScope<SnapshotFrom<M>, EventFromLogic<M>>;
const scopes = new WeakMap<AnyStateMachine, unknown>();

function scopeOf<M extends AnyStateMachine>(machine: M, seed: { input: unknown } | { snapshot: unknown }): ScopeOf<M> {
  let scope = scopes.get(machine) as ScopeOf<M> | undefined;
  if (!scope) {
    const self = createActor(machine, seed as never);
    scope = {
      self,
      id: '',
      sessionId: '',
      system: self.system,
      logger: () => {},
      defer: () => {},
      emit: () => {},
      stopChild: () => {},
      actionExecutor: () => {},
    };
    scopes.set(machine, scope);
  }
  return scope;
}

/**
 * The machine's transition table (compiled-machine.ts), or null when it uses something the table
 * does not cover and xstate runs it. Built once per machine: xstate's generic steps cost ~45 µs
 * of each 3-line order's intake (four starts and five transitions), the table ~1 µs.
 */
const tables = new WeakMap<AnyStateMachine, CompiledMachine | null>();

function tableOf(machine: AnyStateMachine): CompiledMachine | null {
  let table = tables.get(machine);
  if (table === undefined) {
    table = compileMachine(machine) ?? null;
    tables.set(machine, table);
  }
  return table;
}

export function startMachine<M extends AnyStateMachine>(machine: M, input: InputFrom<M>): PersistedMachine<ContextOf<M>> {
  const table = tableOf(machine);
  if (table) return { value: table.initial, context: table.initialContext(input) as ContextOf<M> };
  return startWithXstate(machine, input);
}

/** xstate's own initial snapshot: the reference the table is tested against. */
export function startWithXstate<M extends AnyStateMachine>(machine: M, input: InputFrom<M>): PersistedMachine<ContextOf<M>> {
  const snapshot = machine.getInitialSnapshot(scopeOf(machine, { input }), input) as SnapshotFrom<M>;
  return persist(snapshot);
}

export function applyEvent<M extends AnyStateMachine>(
  machine: M,
  current: PersistedMachine<ContextOf<M>>,
  event: EventFromLogic<M>,
): TransitionResult<ContextOf<M>> {
  const table = tableOf(machine);
  if (!table) return applyWithXstate(machine, current, event);
  const transition = table.select(current.value, current.context, event);
  // Ignored, or taken without a target or an assignment: value and context stay as they were.
  if (!transition || (transition.target === undefined && transition.assignments.length === 0)) {
    return { changed: false, from: current.value, to: current.value, next: { value: current.value, context: current.context } };
  }
  const context = transition.assignments.length === 0 ? current.context : (table.assign(current.context as Record<string, unknown>, event, transition) as ContextOf<M>);
  const next = { value: transition.target ?? current.value, context };
  const changed = next.value !== current.value || !sameContext(next.context, current.context);
  return { changed, from: current.value, to: next.value, next };
}

/** xstate's own transition: the reference the table is tested against. */
export function applyWithXstate<M extends AnyStateMachine>(
  machine: M,
  current: PersistedMachine<ContextOf<M>>,
  event: EventFromLogic<M>,
): TransitionResult<ContextOf<M>> {
  const restored = machine.resolveState({ value: current.value, context: current.context });
  // An event the state does not handle leaves value and context as they were: no separate
  // `can()` check, which would compute the same transition a second time.
  const nextSnapshot = machine.transition(restored, event, scopeOf(machine, { snapshot: restored })) as SnapshotFrom<M>;
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
