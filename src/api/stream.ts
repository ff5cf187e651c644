/**
 * The live stream behind the dashboard: WebSocket `/api/v1/stream`.
 *
 * A client first gets `{ type: 'snapshot', at, data }`, then `{ type: 'delta', at, events }`
 * frames at most every 100 ms. Within a frame, `*.updated` events for the same entity are
 * coalesced to the latest (they carry full state), so a robot reporting at 50 Hz costs the
 * browser 10 updates a second. A client that cannot keep up (its socket buffer passes a bound,
 * or its queue grows too long) loses its queue and gets a fresh snapshot once it has drained:
 * memory per client stays bounded and the control path never waits on a browser.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Metrics } from '../metrics.js';
import type { LiveEvent, Notifier } from '../ports.js';
import type { Role } from '../tokens.js';

/** In-process fan-out. A throwing listener is reported and skipped; it cannot break the publisher. */
export function createLocalNotifier(onListenerError: (err: unknown) => void = () => undefined): Notifier {
  const listeners = new Set<(event: LiveEvent) => void>();
  return {
    publish(event) {
      for (const l of listeners) {
        try {
          l(event);
        } catch (err) {
          onListenerError(err);
        }
      }
    },
    subscribe(listener) {
      // Wrapped so the same function can subscribe twice and unsubscribe each independently.
      const entry = (e: LiveEvent) => listener(e);
      listeners.add(entry);
      return () => void listeners.delete(entry);
    },
  };
}

export interface StreamOptions {
  notifier: Notifier;
  snapshot: () => unknown;
  logger: Logger;
  metrics?: Metrics;
  now?: () => number;
  flushIntervalMs?: number;
  /** Bytes the socket may have unsent before the client counts as slow. */
  maxBufferedBytes?: number;
  /** Events queued between flushes before the client counts as slow. */
  maxQueuedEvents?: number;
  heartbeatMs?: number;
}

const FLOOR_READERS: readonly Role[] = ['viewer', 'operator'];
const OPEN = 1;

/** Per-connection delta queue with coalescing and an overflow flag. */
class DeltaQueue {
  private events: LiveEvent[] = [];
  private index = new Map<string, number>();
  overflowed = false;

  constructor(private readonly max: number) {}

  push(event: LiveEvent): void {
    if (this.overflowed) return;
    const id = event.data.id;
    const key = event.type.endsWith('.updated') && typeof id === 'string' ? `${event.type}\u0000${id}` : undefined;
    const at = key === undefined ? undefined : this.index.get(key);
    if (at !== undefined) {
      this.events[at] = event;
      return;
    }
    if (key !== undefined) this.index.set(key, this.events.length);
    this.events.push(event);
    if (this.events.length > this.max) this.drop();
  }

  drop(): void {
    this.events = [];
    this.index.clear();
    this.overflowed = true;
  }

  take(): LiveEvent[] {
    const out = this.events;
    this.events = [];
    this.index.clear();
    this.overflowed = false;
    return out;
  }
}

export const streamRoutes: FastifyPluginCallback<StreamOptions> = (app, opts, done) => {
  const now = opts.now ?? Date.now;
  const flushIntervalMs = opts.flushIntervalMs ?? 100;
  const maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024;
  const heartbeatMs = opts.heartbeatMs ?? 30_000;
  const log = opts.logger.child({ component: 'stream' });

  app.get(
    '/stream',
    {
      websocket: true,
      // The floor's live view (devices, lines by state): for viewers and operators, like GET /devices; not for sales channels.
      config: { roles: FLOOR_READERS },
      schema: {
        tags: ['overview'],
        summary: 'Live stream (WebSocket): a snapshot, then delta frames at up to 10 Hz. Token as Bearer header or ?token=',
      },
    },
    (socket: WebSocket, request) => {
      const queue = new DeltaQueue(opts.maxQueuedEvents ?? 5000);
      let alive = true;
      const send = (frame: unknown) => {
        if (socket.readyState !== OPEN) return;
        socket.send(JSON.stringify(frame), (err) => {
          if (err) log.debug({ err }, 'stream send failed');
        });
      };
      const sendSnapshot = (): boolean => {
        try {
          send({ type: 'snapshot', at: now(), data: opts.snapshot() });
          return true;
        } catch (err) {
          log.error({ err }, 'snapshot failed; closing stream');
          socket.close(1011, 'snapshot failed');
          return false;
        }
      };

      const unsubscribe = opts.notifier.subscribe((event) => queue.push(event));
      opts.metrics?.wsClients.inc();
      log.info({ principal: request.principal.name }, 'stream client connected');
      if (!sendSnapshot()) return;

      const flush = setInterval(() => {
        if (socket.readyState !== OPEN) return;
        if (socket.bufferedAmount > maxBufferedBytes) {
          // Deltas on top of a backlog only make it worse; the client gets a snapshot once drained.
          queue.drop();
          return;
        }
        if (queue.overflowed) {
          queue.take();
          opts.metrics?.wsResyncs.inc();
          sendSnapshot();
          return;
        }
        const events = queue.take();
        if (events.length > 0) send({ type: 'delta', at: now(), events });
      }, flushIntervalMs);

      const heartbeat = setInterval(() => {
        if (!alive) {
          log.info({ principal: request.principal.name }, 'stream client missed a heartbeat; dropping it');
          socket.terminate();
          return;
        }
        alive = false;
        socket.ping();
      }, heartbeatMs);
      socket.on('pong', () => {
        alive = true;
      });
      socket.on('error', (err) => log.debug({ err }, 'stream socket error'));
      socket.on('close', () => {
        clearInterval(flush);
        clearInterval(heartbeat);
        unsubscribe();
        opts.metrics?.wsClients.dec();
        log.info({ principal: request.principal.name }, 'stream client disconnected');
      });
    },
  );
  done();
};
