/**
 * What a simulation run measures and reports. The runner (simulators/run/) fills `RunKpis` per
 * replication; the report module (simulators/report/) turns replications into means with 95%
 * confidence intervals, a JSON file and a self-contained HTML page.
 */

/** Time split of one resource over the measured window (warm-up excluded), in seconds. */
export interface ResourceUtilization {
  id: string;
  kind: 'amr' | 'station' | 'port' | 'conveyor' | 'asrs' | 'arm';
  busy: number;
  idle: number;
  charging: number;
  blocked: number;
}

/** One bucket of the throughput-over-time series (simulated time). */
export interface ThroughputSample {
  /** Seconds since the start of the run (warm-up included, so the chart shows it). */
  t: number;
  ordersPerHour: number;
  linesPerHour: number;
  unitsPerHour: number;
}

/** KPIs of one replication, warm-up excluded. */
export interface RunKpis {
  seed: number;
  robots: number;
  /** Simulated seconds measured (after warm-up). */
  measuredSeconds: number;
  warmupSeconds: number;
  ordersCompleted: number;
  linesCompleted: number;
  unitsPicked: number;
  ordersPerHour: number;
  linesPerHour: number;
  unitsPerHour: number;
  cycleTimeSeconds: { p50: number; p95: number; p99: number };
  /** Order cycle times (seconds) of completed orders, for the distribution chart. */
  cycleTimes: number[];
  /** Share of completed orders done by their promise date, 0..1. */
  onTimeRate: number;
  utilization: ResourceUtilization[];
  /** Total seconds robots spent blocked waiting for a node or reservation. */
  congestionSeconds: number;
  dispatchLatencyMs: { p50: number; p99: number };
  exceptionsByType: Record<string, number>;
  throughput: ThroughputSample[];
  /** Wall-clock seconds the replication took, and simulated seconds per wall second. */
  wallSeconds: number;
  speedup: number;
}

/** A mean with its 95% confidence interval half-width (Student t over replications). */
export interface Estimate {
  mean: number;
  halfWidth95: number;
  n: number;
}

/** One configuration (e.g. one robot count of a sweep), all its replications and their summary. */
export interface ScenarioResult {
  label: string;
  robots: number;
  orderRatePerHour: number;
  replications: RunKpis[];
  summary: Record<'ordersPerHour' | 'linesPerHour' | 'unitsPerHour' | 'cycleP50' | 'cycleP95' | 'cycleP99' | 'onTimeRate' | 'congestionSeconds' | 'robotUtilization' | 'stationUtilization', Estimate>;
}

export interface SimReport {
  site: string;
  mode: 'fast' | 'live';
  hours: number;
  warmupHours: number;
  baseSeed: number;
  createdAt: string;
  /** One entry for a plain run; several for a sweep, ordered by the swept parameter. */
  scenarios: ScenarioResult[];
  /** The swept parameter, when this was a sweep. */
  sweep?: { parameter: 'robots'; values: number[] };
  /** Analytic upper bounds the run was checked against (e.g. station capacity in units/h). */
  bounds: { name: string; value: number; unit: string }[];
}
