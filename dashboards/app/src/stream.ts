/**
 * The one WebSocket the dashboard reads live data from (`/api/v1/stream`): a snapshot, then delta
 * frames. On any drop it reconnects with capped, jittered backoff; the server starts every
 * connection with a fresh snapshot, so a reconnect resumes from the current state with nothing
 * to replay. A connection refused before opening may mean the token was revoked: that is checked
 * over HTTP before trying again.
 */
import { ApiError, api, getToken } from './api.js';
import type { Frame } from './types.js';

export type StreamState = 'connecting' | 'live' | 'offline';

export interface StreamHandlers {
  onFrame(frame: Frame): void;
  onState(state: StreamState): void;
  onAuthFailed(): void;
}

export interface StreamStats {
  /** Bytes of frame payload received, over every connection. */
  bytes: number;
  frames: number;
  snapshots: number;
  connects: number;
  openedAt: number | undefined;
}

export interface StreamHandle {
  close(): void;
  readonly stats: StreamStats;
}

const MAX_BACKOFF_MS = 10_000;

export function openStream(h: StreamHandlers): StreamHandle {
  const stats: StreamStats = { bytes: 0, frames: 0, snapshots: 0, connects: 0, openedAt: undefined };
  let socket: WebSocket | undefined;
  let failures = 0;
  let stopped = false;
  let timer: number | undefined;

  const schedule = (): void => {
    if (stopped) return;
    failures += 1;
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures - 1, 5));
    timer = window.setTimeout(connect, base / 2 + Math.random() * (base / 2));
  };

  const connect = (): void => {
    timer = undefined;
    if (stopped) return;
    h.onState('connecting');
    const url = new URL('/api/v1/stream', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', getToken() ?? '');
    const ws = new WebSocket(url);
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      failures = 0;
      stats.connects += 1;
      stats.openedAt = performance.now();
      h.onState('live');
    };
    ws.onmessage = (msg: MessageEvent<string>) => {
      if (socket !== ws) return;
      stats.bytes += msg.data.length;
      stats.frames += 1;
      let frame: Frame;
      try {
        frame = JSON.parse(msg.data) as Frame;
      } catch {
        return;
      }
      if (frame.type === 'snapshot') stats.snapshots += 1;
      h.onFrame(frame);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = undefined;
      h.onState('offline');
      if (stopped) return;
      if (!opened && failures >= 1) {
        // Refused twice in a row: a revoked token looks exactly like this from the browser.
        api('/me').then(
          () => schedule(),
          (err: unknown) => (err instanceof ApiError && err.status === 401 ? h.onAuthFailed() : schedule()),
        );
        return;
      }
      schedule();
    };
    // An error is always followed by close, which does the work.
    ws.onerror = () => undefined;
  };

  connect();
  return {
    stats,
    close() {
      stopped = true;
      if (timer !== undefined) window.clearTimeout(timer);
      const ws = socket;
      socket = undefined;
      ws?.close();
    },
  };
}
