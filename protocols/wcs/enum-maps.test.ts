import { describe, expect, it } from 'vitest';
import {
  ACTION_STATUS_MAP,
  BLOCKING_TYPE_MAP,
  CONNECTION_STATE_MAP,
  DEVICE_CLASS_MAP,
  ERROR_LEVEL_MAP,
  type EnumMap,
} from './enum-maps.js';
import { ACTION_STATUS, BLOCKING_TYPE, CONNECTION_STATE, ERROR_LEVEL, WCS_DEVICE_CLASSES } from './messages.js';
import { protoEnumValues } from './proto-schema.js';

const cases: [string, EnumMap<string>, readonly string[], string][] = [
  ['BlockingType', BLOCKING_TYPE_MAP, Object.values(BLOCKING_TYPE), 'BLOCKING_TYPE_'],
  ['ActionStatus', ACTION_STATUS_MAP, Object.values(ACTION_STATUS), 'ACTION_STATUS_'],
  ['ErrorLevel', ERROR_LEVEL_MAP, Object.values(ERROR_LEVEL), 'ERROR_LEVEL_'],
  ['ConnectionState', CONNECTION_STATE_MAP, Object.values(CONNECTION_STATE), 'CONNECTION_STATE_'],
  ['DeviceClass', DEVICE_CLASS_MAP, WCS_DEVICE_CLASSES, 'DEVICE_CLASS_'],
];

describe('wcs/v1 enum maps', () => {
  it.each(cases)('%s: TS values and proto values correspond one to one', (protoEnum, map, values, prefix) => {
    const proto = protoEnumValues(protoEnum);
    expect(proto[`${prefix}UNSPECIFIED`]).toBe(0);
    // Every proto value but UNSPECIFIED has a TS counterpart, and vice versa.
    expect(Object.keys(proto).length).toBe(values.length + 1);
    for (const v of values) {
      const n = map.toWire(v);
      expect(n).toBe(proto[prefix + v.toUpperCase()]);
      expect(map.fromWire(n)).toBe(v);
    }
    expect(map.fromWire(0)).toBeUndefined();
    expect(map.fromWire(-1)).toBeUndefined();
    expect(map.fromWire(values.length + 1)).toBeUndefined();
  });
});
