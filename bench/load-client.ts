/**
 * The order-intake load generator, run as its own process so the client's CPU does not count
 * against the core's. Prints one JSON object with throughput and latency percentiles.
 *
 *   tsx bench/load-client.ts <baseUrl> <token> <json options>
 *   options: { orders, linesPerOrder, skus: string[], concurrency?: number, ratePerSecond?: number, keyPrefix }
 * With `concurrency` it is a closed loop (as fast as answers come); with `ratePerSecond` an
 * open loop that sends on schedule whatever the answers do, so queueing shows in the latency.
 *
 * HTTP/1.1 is spoken over plain sockets (see http-lite.ts): node:http's client cost ~335 µs of
 * CPU per request here, which on a 2-core machine shared with the core would cap what the
 * benchmark can offer (3,000 orders/s would need a whole core for the client alone).
 */
import { HttpLitePool } from './http-lite.js';

interface Options {
  orders: number;
  linesPerOrder: number;
  skus: string[];
  concurrency?: number;
  ratePerSecond?: number;
  keyPrefix: string;
}

/**
 * Connections of the pool: a channel's integration keeps a bounded set of keep-alive connections
 * open (an unbounded burst of new ones overflows the listen backlog, and SYN retransmits would be
 * measured instead of the core). They are opened before the clock starts, as a running
 * integration's would already be.
 */
const OPEN_LOOP_CONNECTIONS = 64;

const [baseUrl, token, raw] = process.argv.slice(2);
if (!baseUrl || !token || !raw) throw new Error('usage: load-client <baseUrl> <token> <json options>');
const opts = JSON.parse(raw) as Options;
const latencies: number[] = [];
let failures = 0;
const statuses = new Map<number, number>();
const pool = await HttpLitePool.connect(baseUrl, opts.concurrency ?? OPEN_LOOP_CONNECTIONS);

function orderBody(n: number): string {
  const lines = Array.from({ length: opts.linesPerOrder }, (_, k) => ({ sku: opts.skus[(n * opts.linesPerOrder + k) % opts.skus.length]!, quantity: 1 }));
  return JSON.stringify({
    channel: 'bench',
    customer: { id: `c-${n % 997}` },
    shipTo: { name: 'Bench', line1: '1 Loop Rd', city: 'Localhost', postalCode: '12345', country: 'DE' },
    lines,
  });
}

async function post(n: number): Promise<void> {
  const body = orderBody(n);
  // Measured from when the order was due (open loop) or sent (closed loop), so time spent
  // waiting for a free connection counts as the latency it is.
  const t0 = performance.now();
  try {
    const status = await pool.post('/api/v1/orders', body, { authorization: `Bearer ${token}`, 'idempotency-key': `${opts.keyPrefix}-${n}`, 'content-type': 'application/json' });
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status !== 201) failures++;
  } catch {
    failures++;
  }
  latencies.push(performance.now() - t0);
}

const started = performance.now();
const cpuAtStart = process.cpuUsage();
if (opts.ratePerSecond) {
  const inFlight: Promise<void>[] = [];
  const tickMs = 5;
  const perTick = (opts.ratePerSecond * tickMs) / 1000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(opts.orders, Math.floor(((performance.now() - started) / 1000) * opts.ratePerSecond!) + perTick);
      while (sent < due) inFlight.push(post(sent++));
      if (sent >= opts.orders) {
        clearInterval(timer);
        resolve();
      }
    }, tickMs);
  });
  await Promise.all(inFlight);
} else {
  let next = 0;
  await Promise.all(
    Array.from({ length: opts.concurrency ?? 32 }, async () => {
      while (next < opts.orders) await post(next++);
    }),
  );
}
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
pool.close();
const cpu = process.cpuUsage(cpuAtStart);
console.log(
  JSON.stringify({
    orders: opts.orders,
    seconds,
    ordersPerSecond: opts.orders / seconds,
    p50: pct(50),
    p99: pct(99),
    max: latencies.at(-1),
    failures,
    statuses: Object.fromEntries(statuses),
    clientCpuUsPerOrder: (cpu.user + cpu.system) / opts.orders,
  }),
);
