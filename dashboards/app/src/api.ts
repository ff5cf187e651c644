/** HTTP side of the dashboard: the token, and JSON calls under /api/v1 that fail with the API's own error. */

const TOKEN_KEY = 'pickwire.token';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Takes `#token=...` (the link `npm start` prints) into sessionStorage and out of the address bar,
 * so the token does not linger in history or travel in a copied link.
 */
export function takeTokenFromUrl(): void {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  params.delete('token');
  const rest = params.toString();
  history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
}

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);
export const clearToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

interface ErrorBody {
  error?: { code?: string; message?: string; details?: { path: string; problem: string }[] };
}

export async function api<T>(path: string, init: { method?: 'GET' | 'POST'; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${getToken() ?? ''}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError('the core cannot be reached', 0, 'NETWORK');
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): the status line has to do.
  }
  if (!res.ok) {
    const e = (body as ErrorBody | undefined)?.error;
    const details = e?.details?.map((d) => `${d.path}: ${d.problem}`).join('; ');
    throw new ApiError(`${e?.message ?? `HTTP ${res.status}`}${details ? ` (${details})` : ''}`, res.status, e?.code ?? `HTTP_${res.status}`);
  }
  return body as T;
}

/** GET that answers undefined for a 404 instead of throwing. */
export async function apiMaybe<T>(path: string): Promise<T | undefined> {
  try {
    return await api<T>(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

export const enc = encodeURIComponent;
