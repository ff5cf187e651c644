/**
 * TelemetrySink over InfluxDB 2 (DESIGN §6): batched, bounded, never blocking the control path.
 *
 * The client's WriteApi is used as the HTTP writer (auth header, gzip, write path; its `escape`
 * for line protocol), but batching, the buffer bound and retries are ours: the WriteApi's
 * own WriteBuffer starts a new concurrent request every time a batch fills and its
 * `maxBufferLines` only bounds the retry buffer, so a slow or black-holed InfluxDB at a high
 * point rate would hold an unbounded number of in-flight batches. Here at most one request is in
 * flight, and everything not yet written (queued lines plus the batch waiting for its retry) is
 * capped at `maxBufferLines`; beyond that the oldest lines are dropped and counted.
 *
 * `write()` is synchronous and O(1): it serializes one point and pushes it into a ring.
 * `flush()` and `close()` always resolve within their time bound, InfluxDB up or down.
 */
import { inspect } from 'node:util';
import { escape, HttpError, InfluxDB, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import { rateLimitedLog, type RateLimitedLog } from '../../logger.js';
import type { TelemetryPoint, TelemetrySink } from '../../ports.js';

export interface InfluxSinkOptions {
  url: string;
  token: string;
  org: string;
  bucket: string;
  logger: Logger;
  /** Wall clock for log rate limiting; timers themselves are real-time (this is a live adapter). */
  now?: () => number;
  /** A partial batch is sent after at most this long. Default 1000. */
  flushIntervalMs?: number;
  /** Lines per request; a full batch is sent at once. Default 1000. */
  batchSize?: number;
  /** Cap on lines held while not yet written (queue plus a batch awaiting retry). Default 50_000. */
  maxBufferLines?: number;
  /** Retries of one batch after its first failed attempt. Default 5. */
  maxRetries?: number;
  /** First retry delay, doubled per retry up to `maxRetryDelayMs`. Default 1000. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** HTTP timeout of one write request. Default 5000. */
  requestTimeoutMs?: number;
  /** Bound on `flush()`. Default 5000. */
  flushTimeoutMs?: number;
  /** Bound on `close()`; whatever is unwritten by then is dropped and counted. Default 3000. */
  closeTimeoutMs?: number;
}

export interface InfluxSinkStats {
  /** Lines InfluxDB acknowledged. */
  written: number;
  /** Lines lost: buffer overflow, retries exhausted, rejected by InfluxDB, invalid, or left at close. */
  dropped: number;
  /** Batches given up on (retries exhausted or a non-retriable rejection such as 400/401/404). */
  failedBatches: number;
  /** Lines currently held: queued, awaiting retry or in flight. */
  buffered: number;
}

/** Fixed-capacity FIFO of lines; push/shift are O(1), `take(n)` is O(n). */
class LineRing {
  private readonly buf: (string | undefined)[];
  private head = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<string | undefined>(capacity);
  }

  push(line: string): void {
    this.buf[(this.head + this.size) % this.capacity] = line;
    this.size++;
  }

  dropOldest(): void {
    if (this.size === 0) return;
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }

  take(n: number): string[] {
    const out: string[] = [];
    while (out.length < n && this.size > 0) {
      out.push(this.buf[this.head] as string);
      this.dropOldest();
    }
    return out;
  }
}

interface PendingRetry {
  lines: string[];
  /** Lines before `start` were dropped to respect the buffer cap (oldest first). */
  start: number;
  failures: number;
}

type SendResult = { ok: true } | { ok: false; retriable: boolean; err: unknown };

const NEEDS_MEASUREMENT_ESCAPE = /[, \n\r\t]/;
const NEEDS_TAG_ESCAPE = /[, =\n\r\t]/;
const escTag = (v: string): string => (NEEDS_TAG_ESCAPE.test(v) ? escape.tag(v) : v);

const DEFAULTS = {
  flushIntervalMs: 1000,
  batchSize: 1000,
  maxBufferLines: 50_000,
  maxRetries: 5,
  retryDelayMs: 1000,
  maxRetryDelayMs: 30_000,
  requestTimeoutMs: 5000,
  flushTimeoutMs: 5000,
  closeTimeoutMs: 3000,
};

// The client logs every failed write to the console on its own (global logger). We log failures
// ourselves, rate-limited, so its messages go to debug on the most recently created sink's logger.
let clientLogTarget: Logger | undefined;
let clientLoggerInstalled = false;
function installClientLogger(logger: Logger): void {
  clientLogTarget = logger;
  if (clientLoggerInstalled) return;
  clientLoggerInstalled = true;
  setLogger({
    error: (message: string, err: unknown) => clientLogTarget?.debug({ err: errorSummary(err) }, `influxdb-client: ${message}`),
    warn: (message: string, err?: unknown) => clientLogTarget?.debug({ err: errorSummary(err) }, `influxdb-client: ${message}`),
  });
}

interface ErrorSummary {
  status?: number;
  code?: string;
  name?: string;
  message: string;
}

function errorSummary(err: unknown): ErrorSummary | undefined {
  if (err === undefined || err === null) return undefined;
  if (err instanceof HttpError) return { status: err.statusCode, code: err.code, message: err.message };
  if (err instanceof Error) return { name: err.name, code: (err as NodeJS.ErrnoException).code, message: err.message };
  return { message: inspect(err) };
}

export class InfluxSink implements TelemetrySink {
  private readonly opts: typeof DEFAULTS;
  private readonly log: Logger;
  private readonly warn: RateLimitedLog;
  private readonly api: WriteApi;
  private readonly token: string;
  private readonly queue: LineRing;
  private retry: PendingRetry | undefined;
  private inflight: Promise<void> | undefined;
  private inflightLines = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private readonly interval: NodeJS.Timeout;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Failed requests so far; `drain` stops at the first new one instead of hammering a dead server. */
  private failedRequests = 0;
  private readonly counts = { written: 0, dropped: 0, failedBatches: 0 };

  constructor(options: InfluxSinkOptions) {
    const { url, token, org, bucket, logger, now = Date.now, ...rest } = options;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<typeof DEFAULTS>;
    this.opts = { ...DEFAULTS, ...defined };
    if (this.opts.batchSize < 1 || this.opts.maxBufferLines < this.opts.batchSize) {
      throw new RangeError('InfluxSink: need batchSize >= 1 and maxBufferLines >= batchSize');
    }
    this.token = token;
    this.log = logger.child({ component: 'telemetry', sink: 'influx' });
    this.warn = rateLimitedLog(this.log, 'telemetry.influx', 60_000, now);
    installClientLogger(this.log);
    this.queue = new LineRing(this.opts.maxBufferLines);
    this.api = new InfluxDB({ url, token, timeout: this.opts.requestTimeoutMs }).getWriteApi(org, bucket, 'ms', {
      // The WriteApi only carries our batches: never batch, flush on a timer or retry by itself.
      batchSize: this.opts.batchSize + 1,
      maxBatchBytes: Number.MAX_SAFE_INTEGER,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: this.opts.batchSize + 1,
      writeFailed: () => undefined,
      writeSuccess: () => undefined,
      writeRetrySkipped: () => undefined,
    });
    this.interval = setInterval(() => this.pump(), this.opts.flushIntervalMs);
    this.interval.unref();
    // A URL may carry basic-auth userinfo: never log it.
    this.log.info({ url: url.replace(/\/\/[^@/]*@/, '//[Redacted]@'), org, bucket, batchSize: this.opts.batchSize, maxBufferLines: this.opts.maxBufferLines }, 'influx telemetry sink ready');
  }

  get stats(): InfluxSinkStats {
    return { ...this.counts, buffered: this.held() + this.inflightLines };
  }

  write(point: TelemetryPoint): void {
    if (this.closed) {
      this.counts.dropped++;
      return;
    }
    const line = this.toLine(point);
    if (line === undefined) {
      this.counts.dropped++;
      this.warn(`invalid:${point.measurement}`, 'telemetry point dropped: no finite field or timestamp', { measurement: point.measurement });
      return;
    }
    if (this.held() >= this.opts.maxBufferLines) this.dropOldest(1);
    this.queue.push(line);
    if (this.queue.size >= this.opts.batchSize && !this.pumpScheduled && this.inflight === undefined) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      }).unref();
    }
  }

  async flush(): Promise<void> {
    await this.drain(this.opts.flushTimeoutMs);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      clearInterval(this.interval);
      await this.drain(this.opts.closeTimeoutMs);
      clearTimeout(this.backoffTimer);
      this.backoffTimer = undefined;
      const left = this.held();
      if (left > 0) {
        this.counts.dropped += left;
        this.retry = undefined;
        this.queue.take(this.queue.size);
      }
      // An in-flight request is left to finish or time out; it settles itself (counted, no retry).
      this.api.dispose();
      const fields = { ...this.stats, unwrittenAtClose: left };
      if (left > 0) this.log.warn(fields, 'influx telemetry sink closed with unwritten points');
      else this.log.info(fields, 'influx telemetry sink closed');
    })();
    return this.closing;
  }

  /** Lines held and not in flight. */
  private held(): number {
    return this.queue.size + (this.retry ? this.retry.lines.length - this.retry.start : 0);
  }

  /** Drops the `n` oldest held lines: the batch awaiting retry is older than anything queued. */
  private dropOldest(n: number): void {
    let dropped = 0;
    while (dropped < n) {
      if (this.retry && this.retry.start < this.retry.lines.length) {
        this.retry.start++;
        if (this.retry.start === this.retry.lines.length) this.retry = undefined;
      } else if (this.queue.size > 0) {
        this.queue.dropOldest();
      } else {
        break;
      }
      dropped++;
    }
    if (dropped === 0) return;
    this.counts.dropped += dropped;
    this.warn('buffer-full', 'telemetry buffer full: dropping oldest points', {
      maxBufferLines: this.opts.maxBufferLines,
      dropped: this.counts.dropped,
    });
  }

  /**
   * One line of line protocol, escaped as the client's `Point` does (its `escape`), built
   * directly: `Point` costs an object, a field map and a sort per point, ~4x slower here.
   * Fields are written as floats so a field never changes type between points (InfluxDB rejects
   * that); tags are sorted by key as InfluxDB prefers; empty tag values are left out (InfluxDB
   * rejects them). No usable field, or no finite timestamp: undefined.
   */
  private toLine(p: TelemetryPoint): string | undefined {
    if (!p.measurement || !Number.isFinite(p.at)) return undefined;
    // Joined once into a flat string: `+=` would build a rope of ~20 small strings per line that
    // the buffer would keep alive, costing memory and GC time while InfluxDB is unreachable.
    const parts: (string | number)[] = [NEEDS_MEASUREMENT_ESCAPE.test(p.measurement) ? escape.measurement(p.measurement) : p.measurement];
    const keys = Object.keys(p.tags);
    if (keys.length > 1) keys.sort();
    for (const k of keys) {
      const v = p.tags[k];
      if (k !== '' && v) parts.push(',', escTag(k), '=', escTag(v));
    }
    let sep = ' ';
    for (const k in p.fields) {
      const v = p.fields[k];
      if (k === '' || v === undefined || !Number.isFinite(v)) continue;
      parts.push(sep, escTag(k), '=', v);
      sep = ',';
    }
    if (sep === ' ') return undefined;
    parts.push(' ', Math.floor(p.at));
    return parts.join('');
  }

  /** Sends the next batch unless one is in flight or a retry is backing off. */
  private pump(force = false): void {
    if (this.inflight !== undefined) return;
    if (this.backoffTimer !== undefined) {
      if (!force) return;
      clearTimeout(this.backoffTimer);
      this.backoffTimer = undefined;
    }
    let lines: string[];
    let failures = 0;
    if (this.retry) {
      lines = this.retry.lines.slice(this.retry.start);
      failures = this.retry.failures;
      this.retry = undefined;
    } else {
      lines = this.queue.take(this.opts.batchSize);
    }
    if (lines.length === 0) return;
    this.inflightLines = lines.length;
    this.inflight = this.send(lines).then((result) => {
      this.inflight = undefined;
      this.inflightLines = 0;
      this.settle(lines, failures, result);
      // Drain a backlog (e.g. after InfluxDB recovered) without waiting for the next interval.
      if (result.ok && !this.closed && this.queue.size >= this.opts.batchSize) this.pump();
    });
  }

  private async send(lines: string[]): Promise<SendResult> {
    try {
      this.api.writeRecords(lines);
      await this.api.flush();
      return { ok: true };
    } catch (err) {
      // Network errors, timeouts, 429 and 5xx are worth retrying; other 4xx (bad line, bad token,
      // unknown bucket) will fail the same way again.
      const retriable = !(err instanceof HttpError) || err.statusCode === 429 || err.statusCode >= 500;
      return { ok: false, retriable, err };
    }
  }

  private settle(lines: string[], failures: number, result: SendResult): void {
    if (result.ok) {
      this.counts.written += lines.length;
      return;
    }
    this.failedRequests++;
    const failed = failures + 1;
    const err = errorSummary(result.err);
    const status = result.err instanceof HttpError ? result.err.statusCode : undefined;
    const reason = status !== undefined ? `http-${status}` : (err?.code ?? err?.name ?? 'error');
    if (result.retriable && failed <= this.opts.maxRetries && !this.closed) {
      const delay = Math.min(this.opts.maxRetryDelayMs, this.opts.retryDelayMs * 2 ** (failed - 1));
      this.warn(`retry:${reason}`, 'influx write failed; will retry', { err: this.scrub(err), attempt: failed, lines: lines.length, retryInMs: delay });
      this.retry = { lines, start: 0, failures: failed };
      const excess = this.held() - this.opts.maxBufferLines;
      if (excess > 0) this.dropOldest(excess);
      this.backoffTimer = setTimeout(() => {
        this.backoffTimer = undefined;
        this.pump();
      }, delay);
      this.backoffTimer.unref();
      return;
    }
    this.counts.dropped += lines.length;
    this.counts.failedBatches++;
    this.warn(`gave-up:${reason}`, 'influx write failed; batch dropped', {
      err: this.scrub(err),
      attempts: failed,
      lines: lines.length,
      retriable: result.retriable,
      dropped: this.counts.dropped,
    });
  }

  /**
   * Tries to write everything held, one attempt per batch, until nothing is left, a request
   * fails (InfluxDB is unwell: leave the rest to the retry schedule) or `timeoutMs` passes.
   */
  private async drain(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const failedBefore = this.failedRequests;
    // Lines written during the drain are not waited for: bound the work to what is held now.
    let budget = Math.ceil((this.held() + this.inflightLines) / this.opts.batchSize) + 1;
    while (budget-- > 0) {
      if (this.inflight === undefined) {
        if (this.failedRequests !== failedBefore || this.held() === 0) return;
        this.pump(true);
      }
      const current = this.inflight;
      if (current === undefined) return;
      const remaining = deadline - performance.now();
      if (remaining <= 0 || !(await settlesWithin(current, remaining))) return;
    }
  }

  /** Belt and braces: the token never reaches a log line, even if a server echoes it. */
  private scrub(err: ErrorSummary | undefined): ErrorSummary | undefined {
    if (!err || this.token.length === 0) return err;
    return { ...err, message: err.message.split(this.token).join('[Redacted]') };
  }
}

async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
