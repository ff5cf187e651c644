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
import { parseVdaTopic, parseWcsTopic } from '../../protocols/index.js';
import { dispatchLatencyOf, type DispatchLatency } from './dispatch-latency.js';

export interface OutboxPublisherOptions {
  resendAfterMs: number;
  batchSize: number;
}

/** One message handed to the transport, waiting for the broker to take it (QoS 1: its PUBACK). */
interface Flight {
  m: OutboxMessage;
  /** performance.now() when handed over: the dispatch latency's end (the core's own work time). */
  issuedAt: number;
  /** Clock time when handed over: what the resend decision compares, virtual in fast simulation. */
  issuedClockAt: number;
  outcome: 'pending' | 'ok' | 'failed';
  err?: unknown;
  /** Given up on (a failure before it, or a reconnect): its late outcome is ignored. */
  dropped: boolean;
}

/** Messages handed to the transport and not yet recorded as sent, at most. */
const MAX_IN_FLIGHT = 2000;
/** Acceptances recorded together: one commit per this many ms, not one per PUBACK. */
const MARK_COALESCE_MS = 20;

export class OutboxPublisher {
  /** Issued and not yet settled, in the order they went on the wire. */
  private readonly flights: Flight[] = [];
  /** Accepted by the broker, in order, waiting to be recorded as sent. */
  private readonly accepted: Flight[] = [];
  /** Seqs issued or accepted and not yet recorded: never issued twice meanwhile. */
  private readonly issued = new Set<number>();
  private markCancel: (() => void) | undefined;
  private timerCancel: (() => void) | undefined;
  private stopped = false;
  /** A kick stopped at MAX_IN_FLIGHT: the next settlement kicks again. */
  private backlogged = false;
  /** Release-to-first-command timing, shared with the release planner through the core's metrics. */
  private readonly latency: DispatchLatency;
  /**
   * An outbox seq up to which every row is known to be issued (or recorded as sent) by this
   * publisher; undefined while that is not known (at start, after a failed publish or a
   * reconnect, while backlogged or disconnected). `sendCommitted` puts commands on the wire
   * without reading them back only when they are the very next rows, so the wire keeps the
   * outbox order.
   */
  private issuedThrough: number | undefined;
  /** Highest seq ever handed to the transport. */
  private maxIssuedSeq = 0;

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

  /**
   * Sends what is pending now; `resendAll` also re-sends every unconfirmed command. New
   * commands go on the wire at once, while earlier ones still wait for their PUBACK: a command
   * never waits behind another's round trip (that wait was most of the dispatch latency).
   */
  kick(resendAll = false): void {
    if (this.stopped || !this.transport.connected) {
      this.issuedThrough = undefined;
      return;
    }
    if (resendAll) {
      // After a (re)connect nothing in flight can be trusted to settle: everything goes again.
      this.dropFlights();
      this.issue(this.store.unconfirmed(this.clock.now() + 1, 10_000));
    }
    this.backlogged = false;
    while (this.transport.connected) {
      if (this.issued.size >= MAX_IN_FLIGHT) {
        this.backlogged = true;
        this.issuedThrough = undefined;
        return;
      }
      // The read includes what is in flight (it stays unsent until its PUBACK is recorded).
      const limit = this.opts.batchSize + this.issued.size;
      const rows = this.store.unsent(limit);
      const fresh = rows.filter((m) => !this.issued.has(m.seq));
      this.issue(fresh);
      if (rows.length < limit) {
        // That read held every unsent row, and each is now on the wire (or waiting for its PUBACK).
        this.issuedThrough = this.transport.connected ? this.maxIssuedSeq : undefined;
        return;
      }
      if (fresh.length === 0) return;
    }
    this.issuedThrough = undefined;
  }

  /**
   * Commands the caller has just committed to the outbox, in outbox order (the dispatcher's
   * first commands): durable already, so they go on the wire at once without being read back —
   * when they are the next rows after everything issued so far. Otherwise (rows of other
   * writers in between, a backlog, a reconnect) this is a plain `kick`, which keeps the order.
   * Only after the outermost transaction committed: the after-commit effects of a nested
   * `runInTransaction` run when its savepoint ends, before anything is durable.
   */
  sendCommitted(messages: readonly OutboxMessage[]): void {
    if (this.stopped || !this.transport.connected) return;
    const first = messages[0];
    const next =
      first !== undefined &&
      this.issuedThrough !== undefined &&
      first.seq === this.issuedThrough + 1 &&
      messages.every((m, i) => m.seq === first.seq + i) &&
      this.issued.size + messages.length <= MAX_IN_FLIGHT;
    if (!next) {
      this.kick();
      return;
    }
    this.issue(messages);
    this.issuedThrough = this.transport.connected ? (messages[messages.length - 1] as OutboxMessage).seq : undefined;
  }

  /** Waits until everything queued has been handed to the broker, or the time is up. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    while (this.clock.now() < deadline) {
      this.markAccepted();
      if (this.store.unsent(1).length === 0) return true;
      if (!this.transport.connected) return false;
      this.kick();
      // On the clock port, so a virtual-clock run waits in simulated time.
      await new Promise<void>((r) => this.clock.setTimer(20, r));
    }
    this.markAccepted();
    return this.store.unsent(1).length === 0;
  }

  stop(): void {
    this.stopped = true;
    this.timerCancel?.();
    this.markAccepted();
  }

  /**
   * Publishes pipelined, in order on the wire. Only the unbroken run of accepted messages from
   * the oldest issued is recorded as sent; on a failure that message and everything issued
   * after it go again, in order (devices ignore repeats).
   */
  private issue(messages: readonly OutboxMessage[]): void {
    for (const m of messages) {
      if (!this.transport.connected) break;
      if (this.issued.has(m.seq)) continue;
      const flight: Flight = { m, issuedAt: performance.now(), issuedClockAt: this.clock.now(), outcome: 'pending', dropped: false };
      this.issued.add(m.seq);
      if (m.seq > this.maxIssuedSeq) this.maxIssuedSeq = m.seq;
      this.flights.push(flight);
      this.transport
        .publish(m.topic, m.payload, {
          qos: m.qos,
          retain: m.retain,
          ...(m.expirySeconds !== undefined ? { expirySeconds: m.expirySeconds } : {}),
        })
        .then(
          () => this.settled(flight, 'ok'),
          (err: unknown) => this.settled(flight, 'failed', err),
        );
    }
  }

  private settled(flight: Flight, outcome: 'ok' | 'failed', err?: unknown): void {
    if (flight.dropped) return;
    flight.outcome = outcome;
    flight.err = err;
    let taken = 0;
    while (taken < this.flights.length && (this.flights[taken] as Flight).outcome === 'ok') this.accepted.push(this.flights[taken++] as Flight);
    if (taken > 0) this.flights.splice(0, taken);
    const head = this.flights[0];
    if (head?.outcome === 'failed') {
      this.logger.warn({ err: head.err, seq: head.m.seq, topic: head.m.topic }, 'outbox publish failed; will retry');
      this.dropFlights();
    }
    if (this.accepted.length > 0 && this.markCancel === undefined) this.markCancel = this.clock.setTimer(MARK_COALESCE_MS, () => this.markAccepted());
    if (this.backlogged) this.kick();
  }

  /** Forgets what is in flight: it is not recorded as sent, so it goes again on the next kick. */
  private dropFlights(): void {
    // Dropped flights count as unsent again: what follows them is no longer known to be issued.
    this.issuedThrough = undefined;
    for (const f of this.flights) {
      f.dropped = true;
      this.issued.delete(f.m.seq);
    }
    this.flights.length = 0;
  }

  /** Records what the broker took in one store transaction, and counts it. */
  private markAccepted(): void {
    this.markCancel?.();
    this.markCancel = undefined;
    if (this.accepted.length === 0) return;
    const done = this.accepted.splice(0);
    const now = this.clock.now();
    try {
      // Not waited for on disk: a record lost in a power cut only means the command goes again.
      this.store.txUnsynced(() => {
        for (const { m } of done) this.store.markSent(m.seq, now);
      });
    } catch (err) {
      // Not recorded: they count as unsent and go again (devices ignore repeats).
      for (const { m } of done) this.issued.delete(m.seq);
      this.issuedThrough = undefined;
      this.logger.warn({ err }, 'could not record sent commands; they will be sent again');
      return;
    }
    for (const { m, issuedAt } of done) {
      this.issued.delete(m.seq);
      this.metrics.mqttMessagesPublished.inc(publishedLabels(m.topic));
      if (m.attempts === 0) this.latency.commandPublished(m.correlation, (taskId) => this.store.getTask(taskId)?.lineId, issuedAt);
      else this.logger.debug({ seq: m.seq, topic: m.topic, attempts: m.attempts + 1 }, 're-sent unconfirmed command');
    }
    this.metrics.outboxPending.set(this.store.outboxPending());
  }

  private scheduleResend(): void {
    if (this.stopped) return;
    this.timerCancel = this.clock.setTimer(this.opts.resendAfterMs, () => {
      this.resendStale();
      this.scheduleResend();
    });
  }

  private resendStale(): void {
    if (!this.transport.connected || this.stopped) return;
    // The broker has not taken what went out a resend period ago: devices are not behind, the
    // broker is, and duplicates queued behind the rest would only make it later.
    const head = this.flights[0];
    // On the clock, not wall time: a fast simulation's result must not depend on machine load.
    if (head && this.clock.now() - head.issuedClockAt > this.opts.resendAfterMs) return;
    this.issue(this.store.unconfirmed(this.clock.now() - this.opts.resendAfterMs, this.opts.batchSize));
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
