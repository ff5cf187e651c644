/**
 * Waits for `work` at most `ms`. On the way out (shutdown, disconnect) a step that cannot finish
 * — a publish to a broker that is gone — must not hold everything else up; its late result or
 * failure is ignored.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]);
  clearTimeout(timer);
}
