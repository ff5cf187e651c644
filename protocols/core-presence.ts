/**
 * Core presence, published retained with QoS 1 on wcs/v1/{site}/core/state, with a last will of
 * `online: false`, so devices know whether their master control is up. JSON rather than
 * protobuf so that any device and any MQTT tool can read it.
 */
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { decodeJsonPayload } from './json-payload.js';

export const CorePresenceSchema = Type.Object({
  online: Type.Boolean(),
  /** ISO 8601 time the core published this (for a last will: when it connected). */
  timestamp: Type.String({ format: 'date-time' }),
  /** Identifies one core process, so a restart is visible to devices. */
  coreId: Type.String({ minLength: 1 }),
  /** Pickwire version of the core. */
  version: Type.String(),
});

export interface CorePresence {
  online: boolean;
  timestamp: string;
  coreId: string;
  version: string;
}

const validator = Compile(CorePresenceSchema);

export function encodeCorePresence(p: CorePresence): string {
  // Only the contract's fields: callers may pass a richer object.
  return JSON.stringify({ online: p.online, timestamp: p.timestamp, coreId: p.coreId, version: p.version });
}

/** Throws ProtocolError on anything but a valid presence message. */
export function decodeCorePresence(payload: Uint8Array | string): CorePresence {
  return decodeJsonPayload<CorePresence>('core presence', validator, payload);
}
