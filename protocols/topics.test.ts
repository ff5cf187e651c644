import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import {
  coreStateTopic,
  decodeCorePresence,
  encodeCorePresence,
  parseVdaTopic,
  parseWcsTopic,
  vdaSubscription,
  vdaTopic,
  wcsSubscription,
  wcsTopic,
  type CorePresence,
} from './topics.js';
import { VDA_TOPICS } from './vda5050/schemas.js';
import { WCS_TOPICS, type WcsDeviceClass } from './wcs/messages.js';

const amr = { interfaceName: 'uagv', manufacturer: 'Acme', serialNumber: 'amr-007' };
const asrs = { site: 'dc-1', deviceClass: 'asrs' as const, deviceId: 'shuttle-3' };

describe('VDA 5050 topics', () => {
  it('builds and parses every topic', () => {
    for (const topic of VDA_TOPICS) {
      const t = vdaTopic(amr, topic);
      expect(t).toBe(`uagv/v2/Acme/amr-007/${topic}`);
      expect(parseVdaTopic(t)).toEqual({ ...amr, topic });
    }
  });

  it('builds subscriptions', () => {
    expect(vdaSubscription('uagv', 'state')).toBe('uagv/v2/+/+/state');
    expect(vdaSubscription('uagv', '+')).toBe('uagv/v2/+/+/+');
  });

  it.each(['', 'a/b', 'a+', '#', 'nul\u0000'])('refuses the id %j', (bad) => {
    expect(() => vdaTopic({ ...amr, serialNumber: bad }, 'order')).toThrow(ProtocolError);
    expect(() => vdaSubscription(bad, 'state')).toThrow(ProtocolError);
  });

  it('refuses an unknown topic name at runtime', () => {
    expect(() => vdaTopic(amr, 'job' as never)).toThrow(ProtocolError);
  });

  it.each([
    'uagv/v1/Acme/amr-007/state',
    'uagv/v2/Acme/amr-007/job',
    'uagv/v2/Acme/amr-007',
    'uagv/v2/Acme/amr-007/state/extra',
    'uagv/v2//amr-007/state',
    'uagv/v2/+/amr-007/state',
    'uagv/v2/Acme/#/state',
    '',
  ])('does not parse %j', (topic) => {
    expect(parseVdaTopic(topic)).toBeNull();
  });
});

describe('wcs/v1 topics', () => {
  it('builds and parses every topic and class', () => {
    for (const deviceClass of ['asrs', 'conveyor', 'arm'] as WcsDeviceClass[]) {
      for (const topic of WCS_TOPICS) {
        const t = wcsTopic({ ...asrs, deviceClass }, topic);
        expect(t).toBe(`wcs/v1/dc-1/${deviceClass}/shuttle-3/${topic}`);
        expect(parseWcsTopic(t)).toEqual({ ...asrs, deviceClass, topic });
      }
    }
  });

  it('builds subscriptions and the core presence topic', () => {
    expect(wcsSubscription('dc-1', 'jobState')).toBe('wcs/v1/dc-1/+/+/jobState');
    expect(wcsSubscription('dc-1', '+')).toBe('wcs/v1/dc-1/+/+/+');
    expect(coreStateTopic('dc-1')).toBe('wcs/v1/dc-1/core/state');
  });

  it.each(['', 'x/y', '+', 'x#'])('refuses the id %j', (bad) => {
    expect(() => wcsTopic({ ...asrs, deviceId: bad }, 'job')).toThrow(ProtocolError);
    expect(() => wcsTopic({ ...asrs, site: bad }, 'job')).toThrow(ProtocolError);
    expect(() => wcsSubscription(bad, 'job')).toThrow(ProtocolError);
    expect(() => coreStateTopic(bad)).toThrow(ProtocolError);
  });

  it('refuses an unknown device class at runtime', () => {
    expect(() => wcsTopic({ ...asrs, deviceClass: 'amr' as never }, 'job')).toThrow(ProtocolError);
  });

  it.each([
    'wcs/v1/dc-1/core/state',
    'wcs/v2/dc-1/asrs/shuttle-3/job',
    'wcs/v1/dc-1/amr/shuttle-3/job',
    'wcs/v1/dc-1/asrs/shuttle-3/order',
    'wcs/v1/dc-1/asrs//job',
    'wcs/v1//asrs/shuttle-3/job',
    'wcs/v1/dc-1/asrs/shuttle-3/job/x',
    'x/v1/dc-1/asrs/shuttle-3/job',
    'uagv/v2/Acme/amr-007/state',
  ])('does not parse %j', (topic) => {
    expect(parseWcsTopic(topic)).toBeNull();
  });
});

describe('core presence', () => {
  const presence: CorePresence = { online: true, timestamp: '2025-03-11T11:40:03.120Z', coreId: 'core-a1', version: '0.1.0' };

  it('round-trips, from string and bytes, keeping only contract fields', () => {
    const text = encodeCorePresence({ ...presence, extra: 1 } as CorePresence);
    expect(JSON.parse(text)).toStrictEqual(presence);
    expect(decodeCorePresence(text)).toStrictEqual(presence);
    expect(decodeCorePresence(new TextEncoder().encode(text))).toStrictEqual(presence);
  });

  it('rejects malformed presence with ProtocolError', () => {
    expect(() => decodeCorePresence('{"online":"yes"}')).toThrow(ProtocolError);
    expect(() => decodeCorePresence('not json')).toThrow(ProtocolError);
    expect(() => decodeCorePresence(JSON.stringify({ ...presence, coreId: '' }))).toThrow(/coreId/);
    expect(() => decodeCorePresence(new Uint8Array([0xc3]))).toThrow(ProtocolError);
  });
});
