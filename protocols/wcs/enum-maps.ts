/**
 * String <-> number maps for the wcs/v1 enums. Numbers come from the loaded .proto reflection,
 * so the TypeScript unions and the wire cannot drift apart silently: a TS value without a proto
 * counterpart fails at module load.
 */
import { ProtocolError } from '../errors.js';
import {
  ACTION_STATUS,
  BLOCKING_TYPE,
  CONNECTION_STATE,
  ERROR_LEVEL,
  WCS_DEVICE_CLASSES,
  type ActionStatus,
  type BlockingType,
  type ConnectionState,
  type ErrorLevel,
  type WcsDeviceClass,
} from './messages.js';
import { protoEnumValues } from './proto-schema.js';

export interface EnumMap<S extends string> {
  /** Throws ProtocolError for a value outside the union (only reachable by bypassing types). */
  toWire(value: S): number;
  /** undefined for UNSPECIFIED (0) and for numbers this version does not know. */
  fromWire(value: number): S | undefined;
}

function enumMap<S extends string>(protoEnum: string, prefix: string, values: readonly S[]): EnumMap<S> {
  const numbers = protoEnumValues(protoEnum);
  const toNumber = new Map<string, number>();
  const byNumber: (S | undefined)[] = [];
  for (const value of values) {
    const n = numbers[prefix + value.toUpperCase()];
    if (n === undefined || n === 0) {
      throw new Error(`wcs/v1: ${protoEnum} has no value for '${value}'`);
    }
    toNumber.set(value, n);
    byNumber[n] = value;
  }
  return {
    toWire(value) {
      const n = toNumber.get(value);
      if (n === undefined) throw new ProtocolError(`not a ${protoEnum}: ${String(value)}`);
      return n;
    },
    fromWire(value) {
      return byNumber[value];
    },
  };
}

export const BLOCKING_TYPE_MAP: EnumMap<BlockingType> = enumMap(
  'BlockingType',
  'BLOCKING_TYPE_',
  Object.values(BLOCKING_TYPE),
);
export const ACTION_STATUS_MAP: EnumMap<ActionStatus> = enumMap(
  'ActionStatus',
  'ACTION_STATUS_',
  Object.values(ACTION_STATUS),
);
export const ERROR_LEVEL_MAP: EnumMap<ErrorLevel> = enumMap('ErrorLevel', 'ERROR_LEVEL_', Object.values(ERROR_LEVEL));
export const CONNECTION_STATE_MAP: EnumMap<ConnectionState> = enumMap(
  'ConnectionState',
  'CONNECTION_STATE_',
  Object.values(CONNECTION_STATE),
);
export const DEVICE_CLASS_MAP: EnumMap<WcsDeviceClass> = enumMap('DeviceClass', 'DEVICE_CLASS_', WCS_DEVICE_CLASSES);
