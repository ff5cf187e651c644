/**
 * A conformance suite is an ordered list of named checks sharing one device under test. Each
 * check throws a ConformanceFailure (or any error) to fail; the runner records the outcome and
 * moves on, so one report lists every rule the device breaks. Checks run in order: the last
 * ones take the device off the broker (last will, graceful close).
 */

export class ConformanceFailure extends Error {
  override readonly name = 'ConformanceFailure';
}

/** Fails the check with `message` unless `condition` holds. */
export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ConformanceFailure(message);
}

export interface ConformanceCheck {
  /** Short, stable id, e.g. `vda.connection.online`. */
  id: string;
  /** The rule, as DESIGN.md §2 or the standard states it. */
  rule: string;
  run(): Promise<void>;
}

export interface ConformanceSuite {
  name: string;
  /** Connects the probe and starts the device. */
  setup(): Promise<void>;
  checks: ConformanceCheck[];
  /** Stops the device (if still running) and the probe. */
  teardown(): Promise<void>;
}

export interface CheckResult {
  id: string;
  rule: string;
  passed: boolean;
  error?: string;
  ms: number;
}

/** Runs a suite outside a test framework (the CLI); every check runs even after failures. */
export async function runSuite(suite: ConformanceSuite): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  await suite.setup();
  try {
    for (const c of suite.checks) {
      const start = Date.now();
      try {
        await c.run();
        results.push({ id: c.id, rule: c.rule, passed: true, ms: Date.now() - start });
      } catch (err) {
        results.push({ id: c.id, rule: c.rule, passed: false, error: err instanceof Error ? err.message : String(err), ms: Date.now() - start });
      }
    }
  } finally {
    await suite.teardown();
  }
  return results;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** ISO 8601 date-time with a zone, as both protocols require for header timestamps. */
export function isIsoTimestamp(value: unknown): boolean {
  return typeof value === 'string' && ISO_UTC.test(value) && !Number.isNaN(Date.parse(value));
}

/** Header ids of one topic must increase by message (VDA 5050 §6.2: "headerId ... incremented by 1 per topic"). */
export function increasing(ids: readonly number[]): boolean {
  for (let i = 1; i < ids.length; i++) if ((ids[i] as number) <= (ids[i - 1] as number)) return false;
  return true;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
