/**
 * Drains the outbox to MQTT (DESIGN §4). Only what is durable is sent; a command stays pending
 * until its device echoes it, and is re-sent every `resendAfterMs` until then — devices ignore
 * repeats of the same ids, so re-sending is always safe. After a restart or a reconnect every
 * unconfirmed command goes out again.
 */
import type { OutboxMessage } from '../domain/records.js';
import type { Clock, Store, Transport } from '../ports.js';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { settleWithin } from '../settle-within.js';
import { parseVdaTopic, parseWcsTopic } from '../../protocols/index.js';
import { dispatchLatencyOf, type DispatchLatency } from './dispatch-latency.js';

export interface OutboxPublisherOptions {
  resendAfterMs: number;
  batchSize: number;
}

export class OutboxPublisher {
  private running: Promise<void> | undefined;
  private again = false;
  private timerCancel: (() => void) | undefined;
  private stopped = false;
  /** Release-to-first-command timing, shared with the release planner through the core's metrics. */
  private readonly latency: DispatchLatency;

  constructor(
    private readonly store: Store,
    private readonly transport: Transport,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly opts: OutboxPublisherOptions,
  ) {
    this.latency = dispatchLatencyOf(metrics);
  }

  start(): void {
    this.transport.onConnect(() => this.kick(true));
    this.scheduleResend();
    this.kick(true);
  }

  /** Sends what is pending now; `resendAll` also re-sends every unconfirmed command. */
  kick(resendAll = false): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain(resendAll)
      .catch((err: unknown) => this.logger.warn({ err }, 'outbox drain failed; will retry'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Waits until everything queued has been handed to the broker, or the time is up. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    while (this.clock.now() < deadline) {
      // A publish can hang while the broker is gone: wait for it only as long as we may.
      if (this.running) await settleWithin(this.running, deadline - this.clock.now());
      if (this.store.unsent(1).length === 0) return true;
      if (!this.transport.connected) return false;
      this.kick();
      // On the clock port, so a virtual-clock run waits in simulated time.
      await new Promise<void>((r) => this.clock.setTimer(20, r));
    }
    return this.store.unsent(1).length === 0;
  }

  stop(): void {
    this.stopped = true;
    this.timerCancel?.();
  }

  private async drain(resendAll: boolean): Promise<void> {
    if (!this.transport.connected) return;
    if (resendAll) await this.send(this.store.unconfirmed(this.clock.now() + 1, 10_000));
    for (;;) {
      const batch = this.store.unsent(this.opts.batchSize);
      if (batch.length === 0) break;
      await this.send(batch);
      if (!this.transport.connected) break;
    }
    this.metrics.outboxPending.set(this.store.outboxPending());
  }

  /**
   * Publishes a batch pipelined (in order on the wire, without waiting for each PUBACK before
   * the next), then records what the broker took in one store transaction: one commit per batch,
   * not one per message. Only the unbroken run of accepted messages from the start is marked
   * sent; anything after a failure goes again, in order (devices ignore repeats).
   */
  private async send(messages: OutboxMessage[]): Promise<void> {
    const inFlight: { m: OutboxMessage; issuedAt: number; done: Promise<void> }[] = [];
    for (const m of messages) {
      if (!this.transport.connected) break;
      const issuedAt = performance.now();
      const done = this.transport.publish(m.topic, m.payload, {
        qos: m.qos,
        retain: m.retain,
        ...(m.expirySeconds !== undefined ? { expirySeconds: m.expirySeconds } : {}),
      });
      // Settled below; this only keeps an early rejection from counting as unhandled meanwhile.
      done.catch(() => undefined);
      inFlight.push({ m, issuedAt, done });
    }
    const accepted: { m: OutboxMessage; issuedAt: number }[] = [];
    let failure: { err: unknown } | undefined;
    for (const f of inFlight) {
      try {
        await f.done;
      } catch (err) {
        failure = { err };
        break;
      }
      accepted.push(f);
    }
    if (accepted.length > 0) {
      const now = this.clock.now();
      this.store.tx(() => {
        for (const { m } of accepted) this.store.markSent(m.seq, now);
      });
      for (const { m, issuedAt } of accepted) {
        this.metrics.mqttMessagesPublished.inc(publishedLabels(m.topic));
        if (m.attempts === 0) this.latency.commandPublished(m.correlation, (taskId) => this.store.getTask(taskId)?.lineId, issuedAt);
        else this.logger.debug({ seq: m.seq, topic: m.topic, attempts: m.attempts + 1 }, 're-sent unconfirmed command');
      }
    }
    // For drain()'s log and retry; the rest of the batch stays unsent and goes again.
    if (failure) throw failure.err instanceof Error ? failure.err : new Error(String(failure.err));
  }

  private scheduleResend(): void {
    if (this.stopped) return;
    this.timerCancel = this.clock.setTimer(this.opts.resendAfterMs, () => {
      void this.resendStale().finally(() => this.scheduleResend());
    });
  }

  private async resendStale(): Promise<void> {
    if (!this.transport.connected || this.running) return;
    const stale = this.store.unconfirmed(this.clock.now() - this.opts.resendAfterMs, this.opts.batchSize);
    if (stale.length === 0) return;
    this.running = this.send(stale)
      .catch((err: unknown) => this.logger.warn({ err }, 'outbox re-send failed'))
      .finally(() => {
        this.running = undefined;
      });
    await this.running;
  }
}

/** Low-cardinality labels for a published topic: protocol family and message kind, never the path. */
function publishedLabels(topic: string): { family: string; topic: string } {
  const vda = parseVdaTopic(topic);
  if (vda) return { family: 'vda5050', topic: vda.topic };
  const wcs = parseWcsTopic(topic);
  if (wcs) return { family: 'wcs', topic: wcs.topic };
  // Core-to-core messages (site hand-overs) and anything else the outbox carries.
  return { family: 'core', topic: topic.slice(topic.lastIndexOf('/') + 1) || 'unknown' };
}
