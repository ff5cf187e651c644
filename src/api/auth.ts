/**
 * Bearer-token authentication and role checks for everything under `/api/v1`.
 *
 * Routes declare who may call them with `config: { roles: [...] }`. Without a declaration a GET
 * is open to every authenticated role and any other method is admin-only, so forgetting to
 * declare roles on a new write route fails closed. The hooks sit on the root instance (not in
 * an encapsulated plugin) so they cover every route plugin registered under the prefix.
 *
 * A route that proves its caller some other way (a webhook signed with a shared secret) declares
 * `config: { auth: 'self' }`: the bearer check skips it, and the route must authenticate every
 * request itself before doing anything (typically in a `preValidation` hook, which may set
 * `request.principal`). Nothing else opts out, so every other route stays fail-closed.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { PickwireError } from '../errors.js';
import { canAccess, type Principal, type Role, type TokenTable } from '../tokens.js';
import { sendError } from './error-handler.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on this route (admin always is; operator also where viewer is). */
    roles?: readonly Role[];
    /** `'self'`: no bearer token; the route authenticates each request itself (e.g. an HMAC-signed webhook). */
    auth?: 'self';
  }
  interface FastifyRequest {
    /**
     * Who is calling. Set on bearer-authenticated routes under `/api/v1`; `null` elsewhere, and on
     * an `auth: 'self'` route until that route has authenticated the request.
     */
    principal: Principal;
  }
}

export const API_PREFIX = '/api/v1';
const DEV_PRINCIPAL: Principal = { name: 'dev', role: 'admin' };
const ANY_ROLE: readonly Role[] = ['channel', 'viewer'];
const ADMIN_ONLY: readonly Role[] = ['admin'];

export interface AuthOptions {
  tokens: TokenTable;
  devAuthDisabled: boolean;
  logger: Logger;
}

/** Distinct valid Authorization headers remembered (see installAuth); far more than tokens in use. */
const MAX_PROVEN_HEADERS = 256;

const underPrefix = (path: string) => path === API_PREFIX || path.startsWith(`${API_PREFIX}/`) || path.startsWith(`${API_PREFIX}?`);

/**
 * Decided by the matched route, not only the raw URL: the router percent-decodes paths, so
 * `/%61pi/v1/orders` reaches the `/api/v1/orders` handler while its raw URL does not start with
 * the prefix. The raw URL still counts for unmatched requests, so API 404s need a token too.
 */
export function isApiRequest(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return (route !== undefined && underPrefix(route)) || underPrefix(request.url);
}

function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m?.[1] ?? '';
  }
  // Browsers cannot set headers on a WebSocket, so only the upgrade request may carry the token in the URL.
  if (request.headers.upgrade?.toLowerCase() === 'websocket') {
    const token = new URL(request.url, 'http://x').searchParams.get('token');
    return token ?? undefined;
  }
  return undefined;
}

export function requiredRoles(request: FastifyRequest): readonly Role[] {
  return rolesFor(request.method, request.routeOptions.config.roles);
}

/** The roles a route admits: its declaration, else any role for reads and admin only for writes. */
export function rolesFor(method: string, declared: readonly Role[] | undefined): readonly Role[] {
  if (declared) return declared;
  return method === 'GET' || method === 'HEAD' ? ANY_ROLE : ADMIN_ONLY;
}

export function installAuth(app: FastifyInstance, opts: AuthOptions): void {
  if (opts.devAuthDisabled) {
    opts.logger.warn(
      { component: 'auth' },
      'AUTHENTICATION IS DISABLED (devAuthDisabled): every API request acts as admin. Never use this outside development.',
    );
  }
  /**
   * Authorization headers already proven valid, with their principal: hashing and comparing the
   * token against every entry was a measurable part of each order's CPU. Only valid headers are
   * kept, so a hit tells a caller nothing the 2xx would not; a miss takes the constant-time
   * lookup as before. The table never changes while the process runs, so nothing goes stale.
   * Bounded: a client cycling through spellings of a valid header only refills it.
   */
  const proven = new Map<string, Principal>();
  const authenticate = (request: FastifyRequest): Principal | undefined => {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const hit = proven.get(header);
      if (hit) return hit;
    }
    const token = presentedToken(request);
    const found = token ? opts.tokens.lookup(token) : undefined;
    if (found && header !== undefined) {
      if (proven.size >= MAX_PROVEN_HEADERS) proven.clear();
      proven.set(header, Object.freeze({ ...found }));
    }
    return found;
  };
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request, reply) => {
    if (!isApiRequest(request)) return;
    // Only a matched route can opt out; an unknown path never can.
    if (!request.is404 && request.routeOptions.config.auth === 'self') return;
    if (opts.devAuthDisabled) {
      request.principal = DEV_PRINCIPAL;
      return;
    }
    const principal = authenticate(request);
    if (!principal) {
      const why = presentedToken(request) === undefined ? 'send Authorization: Bearer <token>' : 'the bearer token is not valid';
      return sendError(reply, new PickwireError('PW_ERR_UNAUTHENTICATED', `authentication required: ${why}`));
    }
    request.principal = principal;
    // An unknown route is a 404 for anyone authenticated, whatever the method.
    if (request.is404) return;
    const roles = requiredRoles(request);
    if (!canAccess(principal.role, roles)) {
      return sendError(
        reply,
        new PickwireError(
          'PW_ERR_FORBIDDEN',
          `role ${principal.role} may not ${request.method} ${request.routeOptions.url ?? request.url}; allowed: ${roles.join(', ')}`,
        ),
      );
    }
  });
}
