/**
 * Instant actions to one device through the durable outbox (QoS 1, sent after the transaction
 * commits): VDA 5050 `instantActions` to vehicles, wcs/v1 `instantActions` to AS/RS, conveyors
 * and arms. Instant actions are fire-once: devices answer them in their state, not with an echo
 * of a command id, so the outbox does not re-send them.
 */
import { WCS_VERSION, encodeVda, encodeWcs, vdaTopic, wcsTopic, type VdaAction, type WcsAction } from '../../protocols/index.js';
import { buildInstantActions } from '../domain/commands.js';
import type { AppContext } from './context.js';

/** `expirySeconds`: an MQTT 5 broker drops the message if it waits longer (a stale pause is worse than none). */
export function enqueueVdaInstantActions(
  ctx: Pick<AppContext, 'store' | 'clock'>,
  interfaceName: string,
  vehicle: { manufacturer: string; serialNumber: string },
  actions: VdaAction[],
  expirySeconds?: number,
): void {
  const { store, clock } = ctx;
  const msg = buildInstantActions(
    { headerId: store.nextId(`vda:${vehicle.serialNumber}:instantActions`), timestamp: new Date(clock.now()).toISOString() },
    vehicle,
    actions,
  );
  store.enqueue({
    topic: vdaTopic({ interfaceName, manufacturer: vehicle.manufacturer, serialNumber: vehicle.serialNumber }, 'instantActions'),
    payload: Buffer.from(encodeVda('instantActions', msg)),
    qos: 1,
    retain: false,
    expirySeconds,
    correlation: undefined,
  });
}

export function enqueueWcsInstantActions(
  ctx: Pick<AppContext, 'store' | 'clock' | 'siteId'>,
  device: { deviceClass: 'asrs' | 'conveyor' | 'arm'; deviceId: string },
  actions: WcsAction[],
  expirySeconds?: number,
): void {
  const { store, clock, siteId } = ctx;
  const { deviceId } = device;
  store.enqueue({
    topic: wcsTopic({ site: siteId, deviceClass: device.deviceClass, deviceId }, 'instantActions'),
    payload: Buffer.from(
      encodeWcs('instantActions', {
        header: { headerId: store.nextId(`wcs:${deviceId}:instantActions`), timestamp: new Date(clock.now()).toISOString(), version: WCS_VERSION, site: siteId, deviceId },
        actions,
      }),
    ),
    qos: 1,
    retain: false,
    expirySeconds,
    correlation: undefined,
  });
}
