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

export interface OutboxPublisherOptions {
  resendAfterMs: number;
  batchSize: number;
}

export class OutboxPublisher {
  private running: Promise<void> | undefined;
  private again = false;
  private timerCancel: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly transport: Transport,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly opts: OutboxPublisherOptions,
  ) {}

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
      await new Promise((r) => setTimeout(r, 20));
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

  private async send(messages: OutboxMessage[]): Promise<void> {
    for (const m of messages) {
      if (!this.transport.connected) return;
      await this.transport.publish(m.topic, m.payload, {
        qos: m.qos,
        retain: m.retain,
        ...(m.expirySeconds !== undefined ? { expirySeconds: m.expirySeconds } : {}),
      });
      this.store.markSent(m.seq, this.clock.now());
      if (m.attempts > 0) this.logger.debug({ seq: m.seq, topic: m.topic, attempts: m.attempts + 1 }, 're-sent unconfirmed command');
    }
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

