/** Operator control of device tasks (DESIGN §9). Reading tasks is `GET /tasks` in floor.ts. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { TaskControlService } from '../../app/task-control.js';

export interface TaskRouteDeps {
  tasks: TaskControlService;
}

export function taskRoutes(deps: TaskRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/tasks/:id/cancel',
      {
        config: { roles: ['operator'] },
        schema: {
          summary: 'Cancel a device task',
          description:
            'Stops the work on the device (VDA cancelOrder or wcs cancelJob), cancels the later steps of the plan (a bin out of storage still goes home) and sends the line back to sourcing (attempts counted); journaled as task.canceled with the actor and recorded as a handled exception. ' +
            'A finished, failed or canceled task is 409; so is a trip already carrying picked goods (cancel the line instead).',
          tags: ['floor'],
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }),
        },
      },
      async (request) => deps.tasks.cancel(request.params.id, request.body.reason, request.principal?.name ?? 'unknown'),
    );

    app.post(
      '/tasks/:id/reassign',
      {
        config: { roles: ['operator'] },
        schema: {
          summary: 'Give a vehicle trip to another vehicle',
          description:
            'Stops the trip on its vehicle (VDA cancelOrder) and puts it back in the queue with that vehicle excluded; the dispatcher sends it to the best other free vehicle. Journaled as task.reassigned with the actor. ' +
            'Only AMR trips that have not picked yet (goods on board stay with their vehicle); a fixed machine\'s step, or a closed task, is 409.',
          tags: ['floor'],
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }),
        },
      },
      async (request) => deps.tasks.reassign(request.params.id, request.body.reason, request.principal?.name ?? 'unknown'),
    );
  };
}
