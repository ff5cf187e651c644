/**
 * The order-intake load generator, run as its own process so the client's CPU does not count
 * against the core's. Prints one JSON object with throughput and latency percentiles.
 *
 *   tsx bench/load-client.ts <baseUrl> <token> <json options>
 *   options: { orders, linesPerOrder, skus: string[], concurrency?: number, ratePerSecond?: number, keyPrefix }
 * With `concurrency` it is a closed loop (as fast as answers come); with `ratePerSecond` an
 * open loop that sends on schedule whatever the answers do, so queueing shows in the latency.
 */
import { Agent, request } from 'node:http';

interface Options {
  orders: number;
  linesPerOrder: number;
  skus: string[];
  concurrency?: number;
  ratePerSecond?: number;
  keyPrefix: string;
}

/**
 * A bounded pool of keep-alive connections, as a channel's integration would use: an unbounded
 * burst of new connections overflows the listen backlog, and SYN retransmits (1 s, 3 s) would
 * then be measured instead of the core.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function postJson(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const [baseUrl, token, raw] = process.argv.slice(2);
if (!baseUrl || !token || !raw) throw new Error('usage: load-client <baseUrl> <token> <json options>');
const opts = JSON.parse(raw) as Options;
const latencies: number[] = [];
let failures = 0;
const statuses = new Map<number, number>();

async function post(n: number): Promise<void> {
  const lines = Array.from({ length: opts.linesPerOrder }, (_, k) => ({ sku: opts.skus[(n * opts.linesPerOrder + k) % opts.skus.length]!, quantity: 1 }));
  const body = JSON.stringify({
    channel: 'bench',
    customer: { id: `c-${n % 997}` },
    shipTo: { name: 'Bench', line1: '1 Loop Rd', city: 'Localhost', postalCode: '12345', country: 'DE' },
    lines,
  });
  const t0 = performance.now();
  try {
    const status = await postJson(`${baseUrl}/api/v1/orders`, body, { authorization: `Bearer ${token}`, 'idempotency-key': `${opts.keyPrefix}-${n}` });
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status !== 201) failures++;
  } catch {
    failures++;
  }
  latencies.push(performance.now() - t0);
}

const started = performance.now();
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
agent.destroy();
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
  }),
);
