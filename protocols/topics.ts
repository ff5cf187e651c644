/**
 * MQTT topic builders and parsers for both device protocols and the core's presence topic.
 *
 * Builders throw ProtocolError on ids that would corrupt the topic tree (empty, or containing
 * '/', '+', '#' or NUL): such an id is a configuration error to surface at once. Parsers return
 * null on anything malformed, because their input comes from the broker and is routinely
 * foreign (other interfaces, other versions, retained leftovers).
 */
import { ProtocolError } from './errors.js';
import { VDA_TOPICS, type VdaTopicName } from './vda5050/schemas.js';
import { WCS_DEVICE_CLASSES, WCS_TOPICS, type WcsDeviceClass, type WcsTopicName } from './wcs/messages.js';

export { decodeCorePresence, encodeCorePresence, type CorePresence } from './core-presence.js';

const VDA_MAJOR = 'v2';
const WCS_ROOT = 'wcs';
const WCS_MAJOR = 'v1';

const VDA_TOPIC_SET: ReadonlySet<string> = new Set(VDA_TOPICS);
const WCS_TOPIC_SET: ReadonlySet<string> = new Set(WCS_TOPICS);
const WCS_CLASS_SET: ReadonlySet<string> = new Set(WCS_DEVICE_CLASSES);

// eslint-disable-next-line no-control-regex -- NUL is forbidden in MQTT topic names
const FORBIDDEN = /[/+#\u0000]/;

function isLevel(value: string): boolean {
  return value !== '' && !FORBIDDEN.test(value);
}

function level(value: string, what: string): string {
  if (typeof value !== 'string' || !isLevel(value)) {
    throw new ProtocolError(`invalid ${what} for an MQTT topic level: ${JSON.stringify(value)}`, [
      { path: what, problem: "must be non-empty and contain no '/', '+', '#' or NUL" },
    ]);
  }
  return value;
}

function oneOf(value: string, allowed: ReadonlySet<string>, what: string): string {
  if (!allowed.has(value)) throw new ProtocolError(`unknown ${what}: ${JSON.stringify(value)}`, [{ path: what, problem: 'is unknown' }]);
  return value;
}

// ---------------------------------------------------------------------------------------------
// VDA 5050: {interfaceName}/v2/{manufacturer}/{serialNumber}/{topic}

export interface VdaAddress {
  interfaceName: string;
  manufacturer: string;
  serialNumber: string;
}

export function vdaTopic(a: VdaAddress, topic: VdaTopicName): string {
  return `${level(a.interfaceName, 'interfaceName')}/${VDA_MAJOR}/${level(a.manufacturer, 'manufacturer')}/${level(
    a.serialNumber,
    'serialNumber',
  )}/${oneOf(topic, VDA_TOPIC_SET, 'VDA 5050 topic')}`;
}

/** Every vehicle's `topic` (or every topic for '+') under one interface name. */
export function vdaSubscription(interfaceName: string, topic: VdaTopicName | '+'): string {
  const last = topic === '+' ? '+' : oneOf(topic, VDA_TOPIC_SET, 'VDA 5050 topic');
  return `${level(interfaceName, 'interfaceName')}/${VDA_MAJOR}/+/+/${last}`;
}

export function parseVdaTopic(topic: string): (VdaAddress & { topic: VdaTopicName }) | null {
  const parts = topic.split('/');
  if (parts.length !== 5) return null;
  const [interfaceName, major, manufacturer, serialNumber, name] = parts as [string, string, string, string, string];
  if (major !== VDA_MAJOR || !VDA_TOPIC_SET.has(name)) return null;
  if (!isLevel(interfaceName) || !isLevel(manufacturer) || !isLevel(serialNumber)) return null;
  return { interfaceName, manufacturer, serialNumber, topic: name as VdaTopicName };
}

// ---------------------------------------------------------------------------------------------
// wcs/v1: wcs/v1/{site}/{deviceClass}/{deviceId}/{topic}

export interface WcsAddress {
  site: string;
  deviceClass: WcsDeviceClass;
  deviceId: string;
}

export function wcsTopic(a: WcsAddress, topic: WcsTopicName): string {
  return `${WCS_ROOT}/${WCS_MAJOR}/${level(a.site, 'site')}/${oneOf(a.deviceClass, WCS_CLASS_SET, 'device class')}/${level(
    a.deviceId,
    'deviceId',
  )}/${oneOf(topic, WCS_TOPIC_SET, 'wcs/v1 topic')}`;
}

/** Every device's `topic` (or every topic for '+') at one site, across device classes. */
export function wcsSubscription(site: string, topic: WcsTopicName | '+'): string {
  const last = topic === '+' ? '+' : oneOf(topic, WCS_TOPIC_SET, 'wcs/v1 topic');
  return `${WCS_ROOT}/${WCS_MAJOR}/${level(site, 'site')}/+/+/${last}`;
}

export function parseWcsTopic(topic: string): (WcsAddress & { topic: WcsTopicName }) | null {
  const parts = topic.split('/');
  if (parts.length !== 6) return null;
  const [root, major, site, deviceClass, deviceId, name] = parts as [string, string, string, string, string, string];
  if (root !== WCS_ROOT || major !== WCS_MAJOR) return null;
  if (!WCS_CLASS_SET.has(deviceClass) || !WCS_TOPIC_SET.has(name)) return null;
  if (!isLevel(site) || !isLevel(deviceId)) return null;
  return { site, deviceClass: deviceClass as WcsDeviceClass, deviceId, topic: name as WcsTopicName };
}

/** Retained presence of the core for one site; see ./core-presence.ts. */
export function coreStateTopic(site: string): string {
  return `${WCS_ROOT}/${WCS_MAJOR}/${level(site, 'site')}/core/state`;
}

/**
 * Where a core hands order lines to another site of the network (JSON, QoS 1): the site's own
 * core or partner system subscribes here. See src/app/line-service.ts for the message.
 */
export function siteHandoverTopic(site: string): string {
  return `${WCS_ROOT}/${WCS_MAJOR}/${level(site, 'site')}/core/handover`;
}
