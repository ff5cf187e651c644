/* global window, sessionStorage, fetch, WebSocket, URL, URLSearchParams, history, location, setTimeout */
// Talks to the core over HTTP and the live stream; knows nothing about the page.

const TOKEN_KEY = 'pickwire.token';

/** Unauthorized answers surface as this, so the page can ask for a token again. */
export class AuthError extends Error {}

/**
 * Takes `#token=...` from the URL (the link `npm start` prints) into sessionStorage and removes
 * it from the address bar, so the token does not linger in history or get shared by copy-paste.
 */
export function takeTokenFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', location.pathname + location.search);
  }
}

export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

export async function getJson(path) {
  const res = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${getToken() ?? ''}` } });
  if (res.status === 401) throw new AuthError('the token was not accepted');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.error?.message ?? `${path}: HTTP ${res.status}`);
  return body;
}

/**
 * Opens the live stream and keeps it open: reconnects with capped backoff. `onFrame` gets every
 * parsed frame; `onState` gets 'live' | 'connecting' | 'offline'.
 */
export function openStream({ onFrame, onState, onAuthFailed }) {
  let socket;
  let attempt = 0;
  let stopped = false;

  const connect = () => {
    if (stopped) return;
    onState('connecting');
    const url = new URL('/api/v1/stream', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', getToken() ?? '');
    socket = new WebSocket(url);
    let opened = false;
    socket.onopen = () => {
      opened = true;
      attempt = 0;
      onState('live');
    };
    socket.onmessage = (msg) => {
      try {
        onFrame(JSON.parse(msg.data));
      } catch (err) {
        onState('live', `bad frame: ${err.message}`);
      }
    };
    socket.onclose = () => {
      onState('offline');
      if (stopped) return;
      // A refused upgrade never opens; check the token over HTTP before hammering the server.
      if (!opened && attempt >= 1) {
        getJson('/devices').then(
          () => schedule(),
          (err) => (err instanceof AuthError ? onAuthFailed() : schedule()),
        );
        return;
      }
      schedule();
    };
    // Errors are followed by close; the close handler does the work.
    socket.onerror = () => {};
  };

  const schedule = () => {
    attempt += 1;
    setTimeout(connect, Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)));
  };

  connect();
  return {
    close() {
      stopped = true;
      socket?.close();
    },
  };
}
