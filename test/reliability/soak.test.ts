/**
 * The CI-length soak: the demo site with its order feed for about a minute (PICKWIRE_SOAK_SECONDS
 * to change it), heap and active handles sampled after a warm-up and checked for sustained
 * growth; every accepted order is in the store once, and the invariants hold. The full-length run
 * is `npm run soak` (test/reliability/soak-run.ts).
 */
import { describe, expect, it } from 'vitest';
import { runSoak, summary } from './soak-run.js';

const SECONDS = Number(process.env.PICKWIRE_SOAK_SECONDS ?? 70);

describe('soak (shortened)', () => {
  it('runs the demo site without heap or handle growth, losing no order', async () => {
    const result = await runSoak({
      durationMs: SECONDS * 1000,
      warmupMs: Math.round(SECONDS * 1000 * 0.25),
      sampleEveryMs: 2000,
      ordersPerMinute: 40,
      speed: 6,
    });
    console.log(`[soak] ${JSON.stringify(summary(result))}`);
    expect(result.feed.accepted, 'the feed got orders in').toBeGreaterThan(10);
    expect(result.feed.failed, 'no request went unanswered').toBe(0);
    expect(result.ordersLost).toBe(0);
    expect(result.duplicateOrders).toBe(0);
    expect(result.invariantProblems).toEqual([]);
    expect(result.linesPicked, 'the floor kept picking').toBeGreaterThan(0);
    expect(result.leaks).toEqual([]);
  }, (SECONDS + 120) * 1000);
});
