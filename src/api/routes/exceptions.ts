/** The exceptions queue (DESIGN §9; issue "Execution" item 6): list, read and resolve. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { exceptionView, type ExceptionService } from '../../app/exception-service.js';
import { EXCEPTION_STATUSES } from '../../domain/records.js';

export interface ExceptionRouteDeps {
  exceptions: ExceptionService;
}

const ExceptionId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function exceptionRoutes(deps: ExceptionRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/exceptions',
      {
        config: { roles: ['viewer', 'operator'] },
        schema: {
          summary: 'List exceptions, oldest first',
          description:
            'Every automatic corrective workflow (short pick, failed task, unroutable line, attempts exhausted) leaves a record of what happened and what was done. ' +
            '`open`: an operator must act; `handled`: the core fixed it (kept for the record); `resolved`: closed by an operator with a note.',
          tags: ['exceptions'],
          querystring: Type.Object({
            status: Type.Optional(Type.Union(EXCEPTION_STATUSES.map((s) => Type.Literal(s)))),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          }),
        },
      },
      async (request) => ({
        items: deps.exceptions.list({ limit: request.query.limit, ...(request.query.status ? { status: request.query.status } : {}) }).map(exceptionView),
      }),
    );

    app.get(
      '/exceptions/:id',
      {
        config: { roles: ['viewer', 'operator'] },
        schema: { summary: 'One exception with its story', tags: ['exceptions'], params: ExceptionId },
      },
      async (request) => exceptionView(deps.exceptions.get(request.params.id)),
    );

    app.post(
      '/exceptions/:id/resolve',
      {
        config: { roles: ['operator'] },
        schema: {
          summary: 'Resolve an exception with a note',
          description: 'Closes the exception (who, when, note), journaled as exception.resolved. Resolving it again answers 200 with the record unchanged.',
          tags: ['exceptions'],
          params: ExceptionId,
          body: Type.Object({ note: Type.String({ minLength: 1, maxLength: 1000 }) }),
        },
      },
      async (request) => exceptionView(deps.exceptions.resolve(request.params.id, request.principal?.name ?? 'unknown', request.body.note)),
    );
  };
}
