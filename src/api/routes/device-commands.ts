/** Operator commands to a device (DESIGN §9): `POST /devices/:id/commands`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { DEVICE_COMMANDS, type DeviceCommandService } from '../../app/device-commands.js';
import type { DeviceRegistry } from '../../app/device-registry.js';
import type { Clock } from '../../ports.js';
import { deviceResource } from './floor.js';

export interface DeviceCommandRouteDeps {
  deviceCommands: DeviceCommandService;
  registry: DeviceRegistry;
  clock: Clock;
}

/** Acting on the floor is for operators (and admins); viewers and channels only look. */
const FLOOR_ACTORS = { roles: ['operator'] as const };

const CommandBody = Type.Object(
  {
    type: Type.Union(
      DEVICE_COMMANDS.map((c) => Type.Literal(c)),
      { description: `One of ${DEVICE_COMMANDS.join(', ')}` },
    ),
  },
  { additionalProperties: false },
);

const DESCRIPTION = [
  'Answers 202 with `{ device, command: { type, sent, at, actionType?, commandId?, charger? } }`: the device as `GET /devices/:id` shows it, and what was sent. Every command is journaled on the device with the caller as actor.',
  '`pause` / `resume`: an instant action (VDA 5050 `startPause` / `stopPause`; wcs devices the pause pair their factsheet declares). The device state turns `paused` when the device reports it; a paused vehicle gets no new trips.',
  '`charge` (AMRs only, with no task): a VDA order to the nearest charger no other vehicle stands on or is sent to, with `startCharging` there (as a node action, or as an instant action on arrival when the factsheet allows only that). The vehicle takes no trips until it reports it stopped charging.',
  '`out-of-service` / `in-service`: a flag only (`sent: false`), kept across restarts; the dispatcher sends nothing to a device out of service.',
  'Unknown device: 404 PW_ERR_NOT_FOUND. A command the device cannot take now (charge for a conveyor, for a busy vehicle, for one whose connection is offline, no free charger, ...): 409 PW_ERR_INVALID_STATE saying why.',
].join(' ');

export function deviceCommandRoutes(deps: DeviceCommandRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/devices/:id/commands',
      {
        config: FLOOR_ACTORS,
        schema: {
          summary: 'Pause, resume, charge, or take a device out of service and back',
          description: DESCRIPTION,
          tags: ['floor'],
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          body: CommandBody,
        },
      },
      async (request, reply) => {
        const { device, command } = deps.deviceCommands.execute(request.params.id, request.body.type, request.principal?.name);
        return reply.code(202).send({ device: deviceResource(deps.registry, device, deps.clock.now()), command });
      },
    );
  };
}
