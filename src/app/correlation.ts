import type { Header } from '../domain/commands.js';
import type { AppContext } from './context.js';

/**
 * Correlation keys tie an outbox command to the device echo that confirms it: a VDA `state`
 * with the same orderId/orderUpdateId, a wcs `jobState` with the same jobId/jobUpdateId.
 */
export const correlationOf = {
  vda: (serialNumber: string, orderId: string, orderUpdateId: number): string => `vda:${serialNumber}:${orderId}:${orderUpdateId}`,
  wcs: (deviceId: string, jobId: string, jobUpdateId: number): string => `wcs:${deviceId}:${jobId}:${jobUpdateId}`,
};

/**
 * The header of the next VDA `order` message to a vehicle: its headerId counts per vehicle and
 * topic (VDA 5050 §6.1), from a store sequence, so it keeps counting after a restart.
 */
export function vdaOrderHeader(ctx: Pick<AppContext, 'store' | 'clock'>, serialNumber: string): Header {
  return { headerId: ctx.store.nextId(`vda:${serialNumber}:order`), timestamp: new Date(ctx.clock.now()).toISOString() };
}
