/**
 * The one catalog of Pickwire errors. Every error a client or an operator can see has a stable
 * code here; messages may improve over time, codes never change meaning.
 */

export interface ErrorDetail {
  /** JSON-pointer-like path of the offending field, e.g. `/lines/0/quantity`. */
  path: string;
  problem: string;
}

interface CatalogEntry {
  status: number;
  retryable: boolean;
  summary: string;
}

export const ERROR_CATALOG = {
  PW_ERR_VALIDATION: { status: 400, retryable: false, summary: 'the request body, query or params failed validation' },
  PW_ERR_MALFORMED_JSON: { status: 400, retryable: false, summary: 'the request body is not valid JSON' },
  PW_ERR_BAD_REQUEST: { status: 400, retryable: false, summary: 'the request is malformed at the HTTP level' },
  PW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, summary: 'the request body has an unsupported content type' },
  PW_ERR_BODY_TOO_LARGE: { status: 413, retryable: false, summary: 'the request body exceeds the size limit' },
  PW_ERR_UNAUTHENTICATED: { status: 401, retryable: false, summary: 'no valid bearer token was presented' },
  PW_ERR_FORBIDDEN: { status: 403, retryable: false, summary: "the token's role may not perform this action" },
  PW_ERR_NOT_FOUND: { status: 404, retryable: false, summary: 'no such resource' },
  PW_ERR_ROUTE_NOT_FOUND: { status: 404, retryable: false, summary: 'no such route' },
  PW_ERR_METHOD_NOT_ALLOWED: { status: 405, retryable: false, summary: 'the route does not accept this method' },
  PW_ERR_UNKNOWN_SKU: { status: 422, retryable: false, summary: 'an order line names a SKU the site does not carry' },
  PW_ERR_UNKNOWN_REFERENCE: { status: 422, retryable: false, summary: 'the request names a site or storage location this core does not have' },
  PW_ERR_IDEMPOTENCY_MISMATCH: { status: 422, retryable: false, summary: 'the Idempotency-Key was used before with a different body' },
  PW_ERR_IDEMPOTENCY_IN_FLIGHT: { status: 409, retryable: true, summary: 'a request with this Idempotency-Key is still being processed' },
  PW_ERR_INVALID_STATE: { status: 409, retryable: false, summary: 'the resource is in a state that does not allow this action' },
  PW_ERR_RATE_LIMITED: { status: 429, retryable: true, summary: 'too many requests' },
  PW_ERR_SHUTTING_DOWN: { status: 503, retryable: true, summary: 'the core is shutting down and takes no new work' },
  PW_ERR_NOT_READY: { status: 503, retryable: true, summary: 'the core is not ready yet' },
  PW_ERR_CHANNEL_NOT_CONFIGURED: { status: 503, retryable: true, summary: 'the sales channel is not configured on this core; the sender should retry later' },
  PW_ERR_STORE_UNAVAILABLE: { status: 503, retryable: true, summary: 'the durable store refused the write; nothing was changed' },
  PW_ERR_CONFIG_INVALID: { status: 500, retryable: false, summary: 'the configuration is invalid' },
  PW_ERR_SITE_INVALID: { status: 500, retryable: false, summary: 'the site layout is invalid' },
  PW_ERR_INTERNAL: { status: 500, retryable: true, summary: 'an unexpected internal error' },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class PickwireError extends Error {
  override readonly name = 'PickwireError';
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly retryable: boolean;
  readonly details: ErrorDetail[] | undefined;

  constructor(code: ErrorCode, message?: string, opts: { details?: ErrorDetail[]; cause?: unknown } = {}) {
    const entry = ERROR_CATALOG[code];
    super(message ?? entry.summary, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.statusCode = entry.status;
    this.retryable = entry.retryable;
    this.details = opts.details;
  }

  /** The wire shape of DESIGN §9: `{ error: { code, message, details? } }`. */
  toBody(): { error: { code: ErrorCode; message: string; details?: ErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export function isPickwireError(err: unknown): err is PickwireError {
  return err instanceof PickwireError;
}
