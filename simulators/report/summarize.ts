/**
 * Replications of one configuration -> one scenario result: each KPI's mean and 95 % interval
 * across replications (each replication is one independent observation, its KPIs already
 * computed with the warm-up excluded).
 */
import { estimate } from './stats.js';
import type { Estimate, ResourceUtilization, RunKpis, ScenarioResult } from './types.js';

/** Share of the measured time a resource was busy: busy / (busy + idle + charging + blocked). */
export function busyShare(u: ResourceUtilization): number {
  const total = u.busy + u.idle + u.charging + u.blocked;
  return total > 0 ? u.busy / total : NaN;
}

/** Mean busy share of one replication's resources of the given kinds; NaN when it has none. */
export function meanUtilization(kpis: RunKpis, kinds: readonly ResourceUtilization['kind'][]): number {
  const shares = kpis.utilization.filter((u) => kinds.includes(u.kind)).map(busyShare).filter((s) => Number.isFinite(s));
  return shares.length === 0 ? NaN : shares.reduce((a, b) => a + b, 0) / shares.length;
}

/** Pick stations: `station` resources, or the arms where a site reports arm stations only. */
function stationKinds(reps: readonly RunKpis[]): ResourceUtilization['kind'][] {
  return reps.some((r) => r.utilization.some((u) => u.kind === 'station')) ? ['station'] : ['arm'];
}

export function summarizeScenario(label: string, robots: number, orderRatePerHour: number, replications: RunKpis[]): ScenarioResult {
  const over = (f: (k: RunKpis) => number): Estimate => estimate(replications.map(f));
  const stations = stationKinds(replications);
  return {
    label,
    robots,
    orderRatePerHour,
    replications,
    summary: {
      ordersPerHour: over((k) => k.ordersPerHour),
      linesPerHour: over((k) => k.linesPerHour),
      unitsPerHour: over((k) => k.unitsPerHour),
      cycleP50: over((k) => k.cycleTimeSeconds.p50),
      cycleP95: over((k) => k.cycleTimeSeconds.p95),
      cycleP99: over((k) => k.cycleTimeSeconds.p99),
      onTimeRate: over((k) => k.onTimeRate),
      congestionSeconds: over((k) => k.congestionSeconds),
      robotUtilization: over((k) => meanUtilization(k, ['amr'])),
      stationUtilization: over((k) => meanUtilization(k, stations)),
    },
  };
}
