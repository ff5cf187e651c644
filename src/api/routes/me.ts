/** `GET /me`: who the presented token belongs to, so a UI can offer only what the role may do. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ROLES } from '../../tokens.js';

export function meRoutes(): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/me',
      {
        // Every authenticated role (operator and admin are implied by viewer).
        config: { roles: ['channel', 'viewer'] },
        schema: {
          summary: 'The caller: token name and role',
          description: 'Roles: `viewer` reads, `operator` also acts on the floor, `admin` may do everything, `channel` submits and reads orders.',
          tags: ['overview'],
          response: { 200: Type.Object({ name: Type.String(), role: Type.String({ enum: [...ROLES] }) }) },
        },
      },
      async (request) => ({ name: request.principal.name, role: request.principal.role }),
    );
  };
}
