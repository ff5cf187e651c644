/**
 * The progress line on stderr: simulated time, orders done, current throughput and speed. On a
 * terminal it redraws in place; in a log (CI, a pipe) it prints a line every `stepPercent`.
 */
export interface ProgressInfo {
  label: string;
  simSeconds: number;
  totalSeconds: number;
  ordersDone: number;
  ordersPerHour: number;
  wallSeconds: number;
}

export interface ProgressReporter {
  update(p: ProgressInfo): void;
  done(): void;
}

/** Where one run of a pool stands, as its process last said. */
export type RunProgress = Omit<ProgressInfo, 'label' | 'wallSeconds'>;

/**
 * Runs going side by side as one progress line: simulated time and orders summed over the runs
 * (finished ones at their end), throughput the mean of the runs still going, and the speed
 * that of the pool as a whole (simulated seconds of all runs per wall second).
 */
export function poolProgress(site: string, runs: readonly (RunProgress | undefined)[], finished: number, wallSeconds: number): ProgressInfo {
  const started = runs.filter((r): r is RunProgress => r !== undefined);
  const going = started.filter((r) => r.simSeconds < r.totalSeconds);
  const perRun = started[0]?.totalSeconds ?? 0;
  return {
    label: `${site} ${finished}/${runs.length} runs`,
    simSeconds: started.reduce((sum, r) => sum + r.simSeconds, 0),
    totalSeconds: perRun * runs.length,
    ordersDone: started.reduce((sum, r) => sum + r.ordersDone, 0),
    ordersPerHour: going.length === 0 ? 0 : going.reduce((sum, r) => sum + r.ordersPerHour, 0) / going.length,
    wallSeconds,
  };
}

export function formatProgress(p: ProgressInfo): string {
  const pct = p.totalSeconds > 0 ? Math.min(100, (p.simSeconds / p.totalSeconds) * 100) : 100;
  const width = 20;
  const filled = Math.round((pct / 100) * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const speed = p.wallSeconds > 0 ? `${Math.round(p.simSeconds / p.wallSeconds)}x` : '-';
  return `${p.label} [${bar}] ${pct.toFixed(0).padStart(3)}% ${hms(p.simSeconds)}/${hms(p.totalSeconds)} sim, ${p.ordersDone} orders done, ${Math.round(p.ordersPerHour)} orders/h, ${speed}`;
}

export function hms(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, stepPercent = 10): ProgressReporter {
  const tty = stream.isTTY === true;
  let lastStep = -1;
  let drawn = false;
  return {
    update(p) {
      if (tty) {
        stream.write(`\r\x1b[2K${formatProgress(p)}`);
        drawn = true;
        return;
      }
      const step = Math.floor((p.simSeconds / Math.max(1, p.totalSeconds)) * (100 / stepPercent));
      if (step === lastStep) return;
      lastStep = step;
      stream.write(`${formatProgress(p)}\n`);
    },
    done() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
      lastStep = -1;
    },
  };
}
