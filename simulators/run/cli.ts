/**
 * Flags of `npm run sim`. Parsing is strict: an unknown flag or a bad value is an error with a
 * message that says what was expected, never a silently ignored setting.
 */
export interface SimArgs {
  site: string;
  hours: number;
  /** Hours excluded from the KPIs at the start; default 10% of the run. */
  warmupHours: number;
  seed: number;
  live: boolean;
  /** Live mode: simulated seconds per real second. */
  speed: number;
  robots: number | undefined;
  /** Orders per hour; the layout's own feed rate when absent. */
  orderRate: number | undefined;
  replications: number;
  sweep: { parameter: 'robots'; values: number[] } | undefined;
  out: string;
  /** One-way latency of the in-memory bus (fast mode), ms. */
  latencyMs: number;
  /** Fast mode: runs at the same time, one process each; absent: one per CPU core and GiB of memory (see runJobs). */
  jobs: number | undefined;
  help: boolean;
}

export const USAGE = `Usage: npm run sim -- [options]

  --site NAME|PATH     site layout (demo, rmfs-large, g2r or a JSON file)     [demo]
  --hours H            simulated hours per replication                          [8]
  --warmup H           hours excluded from the KPIs                   [10% of --hours]
  --seed N             base seed; replication k uses seed N+k                   [1]
  --replications K     replications per scenario                                [1]
  --robots N           AMRs to run (first N of the layout, or cloned onto free nodes)
  --order-rate R       orders per hour                     [the layout's feed rate]
  --sweep robots=A..B:S  one scenario per robot count A, A+S, ..., B
  --out DIR            where report.json and report.html go              [sim-out]
  --live               real MQTT (embedded broker) and real time
  --speed X            live mode: simulated seconds per real second             [1]
  --latency MS         fast mode: in-memory bus latency                         [1]
  --jobs N             fast mode: runs side by side, a process each
                       [one per CPU core and GiB of memory]
  --help               this text
`;

export function parseSimArgs(argv: readonly string[]): SimArgs {
  const args: SimArgs = { site: 'demo', hours: 8, warmupHours: NaN, seed: 1, live: false, speed: 1, robots: undefined, orderRate: undefined, replications: 1, sweep: undefined, out: 'sim-out', latencyMs: 1, jobs: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    const [flag, inline] = raw.startsWith('--') && raw.includes('=') && !raw.startsWith('--sweep=') ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)] : [raw, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new RangeError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--site':
        args.site = value();
        break;
      case '--hours':
        args.hours = num(flag, value(), { min: 0, exclusiveMin: true });
        break;
      case '--warmup':
        args.warmupHours = num(flag, value(), { min: 0 });
        break;
      case '--seed':
        args.seed = int(flag, value(), 0);
        break;
      case '--replications':
        args.replications = int(flag, value(), 1);
        break;
      case '--robots':
        args.robots = int(flag, value(), 0);
        break;
      case '--order-rate':
        args.orderRate = num(flag, value(), { min: 0 });
        break;
      case '--sweep':
        args.sweep = parseSweep(value());
        break;
      case '--out':
        args.out = value();
        break;
      case '--live':
        args.live = true;
        break;
      case '--speed':
        args.speed = num(flag, value(), { min: 0, exclusiveMin: true });
        break;
      case '--latency':
        args.latencyMs = num(flag, value(), { min: 0 });
        break;
      case '--jobs':
        args.jobs = int(flag, value(), 1);
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        if (raw.startsWith('--sweep=')) {
          args.sweep = parseSweep(raw.slice('--sweep='.length));
          break;
        }
        throw new RangeError(`unknown option ${raw} (see --help)`);
    }
  }
  if (Number.isNaN(args.warmupHours)) args.warmupHours = args.hours / 10;
  if (args.warmupHours >= args.hours) throw new RangeError(`--warmup (${args.warmupHours} h) must be shorter than --hours (${args.hours} h)`);
  if (args.sweep !== undefined && args.robots !== undefined) throw new RangeError('--robots and --sweep robots=... cannot be combined');
  // Live runs share the broker and real time; side by side they would measure each other.
  if (args.live && args.jobs !== undefined && args.jobs > 1) throw new RangeError('--jobs applies to fast mode only: live runs go one at a time');
  return args;
}

/** Memory to count per fast run when choosing how many go side by side (a 4 h rmfs-large run ended at 448 MB RSS). */
export const MEMORY_PER_RUN_BYTES = 2 ** 30;

/**
 * How many fast runs go side by side: --jobs, else one per core and per GiB of memory; never
 * more than there are runs.
 */
export function runJobs(args: Pick<SimArgs, 'jobs' | 'live'>, runs: number, machine: { cores: number; memoryBytes: number }): number {
  if (args.live) return 1;
  const fits = Math.min(machine.cores, Math.floor(machine.memoryBytes / MEMORY_PER_RUN_BYTES));
  return Math.max(1, Math.min(args.jobs ?? fits, runs));
}

/** `robots=20..80:10` -> 20, 30, ..., 80 (the step defaults to 1). */
export function parseSweep(spec: string): { parameter: 'robots'; values: number[] } {
  const m = /^robots=(\d+)\.\.(\d+)(?::(\d+))?$/.exec(spec);
  if (m === null) throw new RangeError(`--sweep expects robots=FROM..TO:STEP (e.g. robots=20..80:10), got "${spec}"`);
  const from = Number(m[1]);
  const to = Number(m[2]);
  const step = Number(m[3] ?? 1);
  if (step <= 0 || to < from) throw new RangeError(`--sweep ${spec}: need FROM <= TO and STEP >= 1`);
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  if (values.length > 100) throw new RangeError(`--sweep ${spec} has ${values.length} points; at most 100`);
  return { parameter: 'robots', values };
}

function num(flag: string, v: string, o: { min: number; exclusiveMin?: boolean }): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < o.min || (o.exclusiveMin === true && n === o.min)) {
    throw new RangeError(`${flag} expects a number ${o.exclusiveMin === true ? '>' : '>='} ${o.min}, got "${v}"`);
  }
  return n;
}

function int(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < min) throw new RangeError(`${flag} expects a whole number >= ${min}, got "${v}"`);
  return n;
}
