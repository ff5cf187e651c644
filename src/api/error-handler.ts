/**
 * Every error leaves the API in one shape, `{ error: { code, message, details? } }`, with a
 * stable PW_ERR_* code from the catalog. Client errors say what was wrong with which field;
 * server errors say nothing about internals and are logged with their stack instead.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PickwireError, isPickwireError, type ErrorCode, type ErrorDetail } from '../errors.js';

/** The common shape of Ajv and TypeBox validation errors. */
interface SchemaIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** One detail per offending field: a missing property is reported at its own path, not its parent's. */
export function validationDetails(issues: readonly SchemaIssue[]): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const seen = new Set<string>();
  const add = (path: string, problem: string) => {
    const k = `${path}\u0000${problem}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push({ path: path || '/', problem });
    }
  };
  for (const issue of issues) {
    const base = issue.instancePath ?? '';
    const params = issue.params ?? {};
    if (issue.keyword === 'required') {
      // TypeBox lists every missing property; Ajv names one.
      const missing = (params.requiredProperties as string[] | undefined) ?? [params.missingProperty as string];
      for (const m of missing) add(`${base}/${escapePointer(String(m))}`, 'is required');
    } else if (issue.keyword === 'additionalProperties') {
      const extra = (params.additionalProperties as string[] | string | undefined) ?? params.additionalProperty;
      for (const e of Array.isArray(extra) ? extra : [extra]) add(`${base}/${escapePointer(String(e))}`, 'is not allowed');
    } else if (issue.keyword === 'boolean' && issue.message === 'schema is false') {
      // TypeBox reports an unknown property twice (false sub-schema and additionalProperties).
      add(base, 'is not allowed');
    } else {
      add(base, issue.message ?? 'is invalid');
    }
  }
  return out;
}

const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query string', params: 'path', headers: 'headers' };

function toPickwireError(err: FastifyError & { validation?: SchemaIssue[]; validationContext?: string }): PickwireError | undefined {
  if (err.validation) {
    const details = validationDetails(err.validation);
    const part = PART_NAMES[err.validationContext ?? 'body'] ?? 'request';
    const summary = details.map((d) => `${d.path} ${d.problem}`).join('; ');
    return new PickwireError('PW_ERR_VALIDATION', `invalid ${part}: ${summary}`, { details });
  }
  // A validator that runs out of stack was handed a value nested thousands of levels deep
  // (JSON.parse copes, TypeBox's recursive walk does not): the client's fault, not ours.
  // Fastify marks what the validator threw with the request part it was checking.
  if (err instanceof RangeError && err.validationContext !== undefined) {
    const part = PART_NAMES[err.validationContext] ?? 'request';
    return new PickwireError('PW_ERR_VALIDATION', `invalid ${part}: nested too deeply to validate`, { details: [{ path: '/', problem: 'is nested too deeply' }] });
  }
  const byFastifyCode: Record<string, [ErrorCode, string]> = {
    FST_ERR_CTP_INVALID_JSON_BODY: ['PW_ERR_MALFORMED_JSON', 'the request body is not valid JSON'],
    FST_ERR_CTP_EMPTY_JSON_BODY: ['PW_ERR_MALFORMED_JSON', 'the request body is empty but Content-Type is application/json'],
    FST_ERR_CTP_BODY_TOO_LARGE: ['PW_ERR_BODY_TOO_LARGE', 'the request body exceeds the size limit'],
    FST_ERR_CTP_INVALID_MEDIA_TYPE: ['PW_ERR_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'],
  };
  const mapped = byFastifyCode[err.code];
  if (mapped) return new PickwireError(mapped[0], mapped[1]);
  // Remaining fastify client errors (bad Content-Length, malformed URL, ...) carry a safe message.
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500 && err.code?.startsWith('FST_')) {
    if (status === 413) return new PickwireError('PW_ERR_BODY_TOO_LARGE', err.message);
    if (status === 415) return new PickwireError('PW_ERR_UNSUPPORTED_MEDIA_TYPE', err.message);
    return new PickwireError('PW_ERR_BAD_REQUEST', err.message);
  }
  return undefined;
}

export function sendError(reply: FastifyReply, err: PickwireError): FastifyReply {
  if (err.code === 'PW_ERR_UNAUTHENTICATED') reply.header('www-authenticate', 'Bearer');
  if (err.retryable && err.statusCode === 503) reply.header('retry-after', '5');
  return reply.code(err.statusCode).type('application/json; charset=utf-8').send(err.toBody());
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isPickwireError(error)) {
    if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    return sendError(reply, error);
  }
  const mapped = typeof error === 'object' && error !== null ? toPickwireError(error as FastifyError) : undefined;
  if (mapped) return sendError(reply, mapped);
  request.log.error({ err: error }, 'unhandled error');
  return sendError(reply, new PickwireError('PW_ERR_INTERNAL', 'an unexpected internal error; see the server log'));
}

/**
 * Errors fastify's router raises before any route or hook runs (a path parameter over
 * maxParamLength, a malformed percent-encoding): without this they leave in fastify's own shape,
 * without a PW_ERR code. Pass as the `frameworkErrors` option of the Fastify constructor.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is longer than any id this API hands out' : 'the URL is malformed (bad percent-encoding)';
  void sendError(reply, new PickwireError('PW_ERR_BAD_REQUEST', message));
}

/** Installs the error and 404 handlers on the root, so every plugin inherits them. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new PickwireError('PW_ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
