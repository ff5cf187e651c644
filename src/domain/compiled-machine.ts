/**
 * A transition table read once from an xstate v5 `setup()` machine, so the hot paths (intake
 * computes four transitions per 3-line order) skip xstate's generic interpreter: restoring a
 * snapshot, building state-node sets, computing exit and entry sets. The machine stays the
 * source of truth: the table is built from its config and implementations, and only for the
 * subset Pickwire's machines use — flat states, `on` transitions with string targets, named
 * guards and `assign` actions. Anything else (entry/exit actions, eventless or delayed
 * transitions, invoked actors, wildcard events, non-assign actions) makes `compileMachine`
 * return undefined and the caller falls back to xstate itself.
 *
 * Semantics mirrored from xstate 5 (machine-runner.test.ts checks every state x event pair
 * against xstate): the state's own candidates for the event are tried in order and the first
 * whose guard passes is taken; without one in the state, the root's are tried; a taken
 * transition without a target keeps the state; assign actions run in order, each seeing the
 * context the previous one produced, merged as `Object.assign({}, context, partial)`.
 */
import type { AnyStateMachine } from 'xstate';

type Args = { context: unknown; event: { type: string } };
type Assignment = ((args: Args, params: undefined) => Record<string, unknown>) | Record<string, unknown>;

interface CompiledTransition {
  guard: ((args: Args, params: undefined) => boolean) | undefined;
  target: string | undefined;
  assignments: Assignment[];
}

export interface CompiledMachine {
  initial: string;
  initialContext(input: unknown): Record<string, unknown>;
  /** The transition taken for `event` in `state`, or undefined when the event is ignored there. */
  select(state: string, context: unknown, event: { type: string }): CompiledTransition | undefined;
  assign(context: Record<string, unknown>, event: { type: string }, transition: CompiledTransition): Record<string, unknown>;
}

interface StateConfig {
  on?: Record<string, unknown>;
  states?: Record<string, unknown>;
  type?: string;
  [key: string]: unknown;
}

/** Config keys of a state (or the root) that this table understands. */
const KNOWN_STATE_KEYS = new Set(['on', 'type', 'description', 'meta', 'tags']);
const KNOWN_ROOT_KEYS = new Set(['id', 'initial', 'context', 'states', 'on', 'description', 'meta', 'types', 'schemas']);

const noSpawn = (): never => {
  throw new Error('compiled machines do not spawn actors');
};

export function compileMachine(machine: AnyStateMachine): CompiledMachine | undefined {
  const config = machine.config as StateConfig & { initial?: unknown; context?: unknown };
  const impl = machine.implementations as { actions: Record<string, unknown>; guards: Record<string, unknown> };
  if (Object.keys(config).some((k) => !KNOWN_ROOT_KEYS.has(k))) return undefined;
  if (typeof config.initial !== 'string' || !config.states || typeof config.context !== 'function') return undefined;
  const states = config.states as Record<string, StateConfig>;
  if (!(config.initial in states)) return undefined;

  const parseOn = (on: Record<string, unknown> | undefined, owner: 'root' | 'state'): Map<string, CompiledTransition[]> | undefined => {
    const table = new Map<string, CompiledTransition[]>();
    for (const [eventType, raw] of Object.entries(on ?? {})) {
      if (eventType.includes('*')) return undefined;
      const list = Array.isArray(raw) ? raw : [raw];
      const compiled: CompiledTransition[] = [];
      for (const t of list) {
        const def = typeof t === 'string' ? { target: t } : (t as Record<string, unknown>);
        if (!def || typeof def !== 'object' || Object.keys(def).some((k) => !['target', 'actions', 'guard', 'description'].includes(k))) return undefined;
        const target = resolveTarget(def.target, owner, states);
        if (target === null) return undefined;
        let guard: CompiledTransition['guard'];
        if (def.guard !== undefined) {
          const g = typeof def.guard === 'string' ? impl.guards[def.guard] : undefined;
          // Inline guards and higher-order ones (and/or/not carry a `check`) are left to xstate.
          if (typeof g !== 'function' || 'check' in g) return undefined;
          guard = g as CompiledTransition['guard'];
        }
        const names = def.actions === undefined ? [] : Array.isArray(def.actions) ? def.actions : [def.actions];
        const assignments: Assignment[] = [];
        for (const name of names) {
          const action: unknown = typeof name === 'string' ? impl.actions[name] : name;
          if (typeof action !== 'function') return undefined;
          const { type, assignment } = action as { type?: unknown; assignment?: unknown };
          if (type !== 'xstate.assign' || (typeof assignment !== 'function' && (typeof assignment !== 'object' || assignment === null))) return undefined;
          assignments.push(assignment as Assignment);
        }
        compiled.push({ guard, target, assignments });
      }
      table.set(eventType, compiled);
    }
    return table;
  };

  const rootOn = parseOn(config.on, 'root');
  if (!rootOn) return undefined;
  const byState = new Map<string, Map<string, CompiledTransition[]>>();
  for (const [name, state] of Object.entries(states)) {
    if (!state || typeof state !== 'object' || state.states !== undefined) return undefined;
    if (Object.keys(state).some((k) => !KNOWN_STATE_KEYS.has(k))) return undefined;
    if (state.type !== undefined && state.type !== 'final' && state.type !== 'atomic') return undefined;
    const on = parseOn(state.on, 'state');
    if (!on) return undefined;
    byState.set(name, on);
  }
  const contextFactory = config.context as (args: { input: unknown; spawn: unknown; self: unknown }) => Record<string, unknown>;

  const firstEnabled = (candidates: CompiledTransition[] | undefined, args: Args): CompiledTransition | undefined => {
    if (!candidates) return undefined;
    for (const c of candidates) if (!c.guard || c.guard(args, undefined)) return c;
    return undefined;
  };

  return {
    initial: config.initial,
    initialContext: (input) => contextFactory({ input, spawn: noSpawn, self: undefined }),
    select(state, context, event) {
      const own = byState.get(state);
      if (!own) throw new Error(`state ${state} is not one of machine ${machine.id}'s`);
      const args: Args = { context, event };
      // A state's own candidates shadow the root's only when one of them is enabled.
      return firstEnabled(own.get(event.type), args) ?? firstEnabled(rootOn.get(event.type), args);
    },
    assign(context, event, transition) {
      let current = context;
      for (const assignment of transition.assignments) {
        const args: Args & { spawn: unknown } = { context: current, event, spawn: noSpawn };
        let partial: Record<string, unknown>;
        if (typeof assignment === 'function') partial = assignment(args, undefined);
        else {
          partial = {};
          for (const key of Object.keys(assignment)) {
            const v = assignment[key];
            partial[key] = typeof v === 'function' ? (v as (a: Args, p: undefined) => unknown)(args, undefined) : v;
          }
        }
        current = Object.assign({}, current, partial);
      }
      return current;
    },
  };
}

/** A target as a top-level state name; undefined for none; null when it is not one this table handles. */
function resolveTarget(target: unknown, owner: 'root' | 'state', states: Record<string, unknown>): string | undefined | null {
  if (target === undefined) return undefined;
  const one: unknown = Array.isArray(target) ? (target.length === 1 ? (target as unknown[])[0] : null) : target;
  if (typeof one !== 'string') return null;
  // From the root, '.X' names its child X; from a top-level state, 'X' names its sibling X.
  const name = owner === 'root' ? (one.startsWith('.') ? one.slice(1) : null) : one.startsWith('.') || one.startsWith('#') ? null : one;
  return name !== null && name in states ? name : null;
}
