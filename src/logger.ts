/**
 * The one root pino logger. Components take `logger.child({ component })` and bind the ids they
 * work on (orderId, lineId, deviceId) so one grep follows an order across the core.
 *
 * Secrets never reach the log: bearer headers, API tokens, passwords, the InfluxDB token and the
 * Shopify webhook secret are redacted by path, and the WebSocket `?token=` query parameter is cut
 * out of logged URLs (browsers cannot send headers on a WebSocket, so the token rides in the URL
 * there).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'tokens',
  '*.tokens',
  'adminToken',
  '*.adminToken',
  'password',
  '*.password',
  'mqttPassword',
  '*.mqttPassword',
  'influx.token',
  'config.influx.token',
  'config.tokens',
  'shopifyWebhookSecret',
  '*.shopifyWebhookSecret',
  'secret',
  '*.secret',
];

const TOKEN_PARAM = /([?&](?:token|access_token)=)[^&#]*/gi;

/** `/api/v1/stream?token=abc` -> `/api/v1/stream?token=[Redacted]`. */
export function redactUrl(url: string): string {
  return url.replace(TOKEN_PARAM, '$1[Redacted]');
}

interface RequestLike {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

export interface LoggerOptions {
  level: LogLevel;
  /** Output is JSON lines; pipe through `pino-pretty` when a human reads along. */
  pretty?: false;
}

export function createLogger(opts: LoggerOptions, destination?: DestinationStream): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: 'pickwire' },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      serializers: {
        // Replaces fastify's request serializer (the root's serializers win) to keep tokens out of URLs.
        req: (req: RequestLike) => ({
          method: req.method,
          url: req.url === undefined ? undefined : redactUrl(req.url),
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}

export type RateLimitedLog = (key: string, msg: string, fields?: Record<string, unknown>) => void;

/**
 * For floods of the same complaint (a device sending malformed messages at 10 Hz): logs the
 * first occurrence per `key` per window at warn, counts the rest, and reports that count with
 * the next line for the key. Metrics count every occurrence; the log stays readable.
 *
 * `category` names the kind of event (e.g. `mqtt.rejected`) and is logged as `event`.
 */
export function rateLimitedLog(
  logger: Logger,
  category: string,
  windowMs = 60_000,
  now: () => number = Date.now,
): RateLimitedLog {
  const windows = new Map<string, { start: number; suppressed: number }>();
  // Bounded so a stream of random device ids cannot grow the map without limit.
  const maxKeys = 10_000;
  return (key, msg, fields = {}) => {
    const t = now();
    const w = windows.get(key);
    if (w && t - w.start < windowMs) {
      w.suppressed++;
      return;
    }
    if (!w && windows.size >= maxKeys) {
      for (const [k, v] of windows) if (t - v.start >= windowMs) windows.delete(k);
      if (windows.size >= maxKeys) windows.delete(windows.keys().next().value as string);
    }
    logger.warn({ ...fields, event: category, key, suppressed: w?.suppressed ?? 0 }, msg);
    windows.set(key, { start: t, suppressed: 0 });
  };
}
