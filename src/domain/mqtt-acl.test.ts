import { describe, expect, it } from 'vitest';
import { MqttAcl, deviceAddressOf, deviceUsername, filterCovered, renderMosquittoAcl } from './mqtt-acl.js';

const acl = new MqttAcl('uagv');
const amr = { username: 'acme/AMR-01', role: 'device' as const };
const asrs = { username: 'demo/asrs/ASRS-1', role: 'device' as const };
const core = { username: 'pickwire-core', role: 'core' as const };
const observer = { username: 'grafana', role: 'observer' as const };

describe('filterCovered', () => {
  it('matches literal levels, + and # the MQTT way', () => {
    expect(filterCovered('a/+/c', 'a/b/c')).toBe(true);
    expect(filterCovered('a/+/c', 'a/+/c')).toBe(true);
    expect(filterCovered('a/b/c', 'a/+/c')).toBe(false);
    expect(filterCovered('a/+/c', 'a/#')).toBe(false);
    expect(filterCovered('a/#', 'a/b/c')).toBe(true);
    expect(filterCovered('a/+', 'a/b/c')).toBe(false);
    expect(filterCovered('a/b/c', 'a/b')).toBe(false);
  });
});

describe('device addresses', () => {
  it('reads vehicle and wcs usernames and refuses anything else', () => {
    expect(deviceAddressOf('acme/AMR-01')).toEqual({ protocol: 'vda5050', manufacturer: 'acme', serialNumber: 'AMR-01' });
    expect(deviceAddressOf('demo/arm/ARM-2')).toEqual({ protocol: 'wcs', site: 'demo', deviceClass: 'arm', deviceId: 'ARM-2' });
    for (const bad of ['solo', 'a/+', 'a/#', 'demo/robot/x', 'a//b', 'a/b/c/d', '']) expect(deviceAddressOf(bad)).toBeUndefined();
    expect(deviceUsername({ protocol: 'wcs', site: 's', deviceClass: 'conveyor', deviceId: 'C1' })).toBe('s/conveyor/C1');
  });
});

describe('MqttAcl', () => {
  it('lets a vehicle report only under its own address', () => {
    expect(acl.mayPublish(amr, 'uagv/v2/acme/AMR-01/state').allowed).toBe(true);
    expect(acl.mayPublish(amr, 'uagv/v2/acme/AMR-01/connection').allowed).toBe(true);
    expect(acl.mayPublish(amr, 'uagv/v2/acme/AMR-02/state').allowed).toBe(false);
    expect(acl.mayPublish(amr, 'other/v2/acme/AMR-01/state').allowed).toBe(false);
  });

  it('never lets a device publish a command, not even to itself', () => {
    expect(acl.mayPublish(amr, 'uagv/v2/acme/AMR-01/order').allowed).toBe(false);
    expect(acl.mayPublish(amr, 'uagv/v2/acme/AMR-01/instantActions').allowed).toBe(false);
    expect(acl.mayPublish(asrs, 'wcs/v1/demo/asrs/ASRS-1/job').allowed).toBe(false);
    expect(acl.mayPublish(asrs, 'wcs/v1/demo/core/state').allowed).toBe(false);
  });

  it('lets a device read only its own commands and the core presence', () => {
    expect(acl.maySubscribe(amr, 'uagv/v2/acme/AMR-01/order').allowed).toBe(true);
    expect(acl.maySubscribe(amr, 'uagv/v2/acme/AMR-02/order').allowed).toBe(false);
    expect(acl.maySubscribe(amr, 'uagv/v2/acme/+/order').allowed).toBe(false);
    expect(acl.maySubscribe(amr, 'uagv/v2/acme/AMR-01/#').allowed).toBe(false);
    expect(acl.maySubscribe(amr, '#').allowed).toBe(false);
    expect(acl.maySubscribe(asrs, 'wcs/v1/demo/asrs/ASRS-1/job').allowed).toBe(true);
    expect(acl.maySubscribe(asrs, 'wcs/v1/demo/core/state').allowed).toBe(true);
    expect(acl.maySubscribe(asrs, 'wcs/v1/demo/asrs/ASRS-1/jobState').allowed).toBe(false);
  });

  it('lets a wcs device report under its own address only', () => {
    expect(acl.mayPublish(asrs, 'wcs/v1/demo/asrs/ASRS-1/jobState').allowed).toBe(true);
    expect(acl.mayPublish(asrs, 'wcs/v1/demo/asrs/ASRS-2/jobState').allowed).toBe(false);
    expect(acl.mayPublish(asrs, 'wcs/v1/demo/conveyor/ASRS-1/jobState').allowed).toBe(false);
  });

  it('refuses a device whose username is no address', () => {
    const odd = { username: 'acme', role: 'device' as const };
    expect(acl.mayPublish(odd, 'uagv/v2/acme/state')).toEqual({ allowed: false, reason: 'username is not a device address' });
  });

  it('lets the core command everyone and read every report, but not impersonate a device', () => {
    expect(acl.mayPublish(core, 'uagv/v2/acme/AMR-01/order').allowed).toBe(true);
    expect(acl.mayPublish(core, 'wcs/v1/demo/arm/ARM-1/job').allowed).toBe(true);
    expect(acl.mayPublish(core, 'wcs/v1/demo/core/state').allowed).toBe(true);
    expect(acl.mayPublish(core, 'uagv/v2/acme/AMR-01/state').allowed).toBe(false);
    expect(acl.maySubscribe(core, 'uagv/v2/+/+/state').allowed).toBe(true);
    expect(acl.maySubscribe(core, 'wcs/v1/demo/+/+/jobState').allowed).toBe(true);
    expect(acl.maySubscribe(core, 'uagv/v2/+/+/order').allowed).toBe(false);
    expect(acl.maySubscribe(core, '#').allowed).toBe(false);
  });

  it('gives observers reads only', () => {
    expect(acl.maySubscribe(observer, 'uagv/v2/+/+/state').allowed).toBe(true);
    expect(acl.mayPublish(observer, 'uagv/v2/acme/AMR-01/order').allowed).toBe(false);
    expect(acl.mayPublish(observer, 'uagv/v2/acme/AMR-01/state').allowed).toBe(false);
  });
});

describe('renderMosquittoAcl', () => {
  it('writes device rules as %u patterns and core rules under the core user', () => {
    const text = renderMosquittoAcl('uagv', { core: 'pickwire-core', observers: ['grafana'] });
    expect(text).toContain('pattern write uagv/v2/%u/state');
    expect(text).toContain('pattern read uagv/v2/%u/order');
    expect(text).not.toMatch(/pattern write .*\/(order|instantActions|job)$/m);
    expect(text).toMatch(/user pickwire-core\n(topic .*\n)*topic write uagv\/v2\/\+\/\+\/order/);
    expect(text).toMatch(/user grafana\n(topic read .*\n)+$/);
  });
});
