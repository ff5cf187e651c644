/**
 * The inbound side of MQTT: every message is routed by topic, decoded and validated, then fed
 * to the device registry and to task progress. A bad message is counted, logged at most once
 * per device and minute with its reason, and dropped — it never throws out of here.
 */
import {
  decodeVda,
  decodeWcs,
  parseVdaTopic,
  parseWcsTopic,
  ProtocolError,
  type VdaMessages,
  type VdaState,
  type VdaTopicName,
  type WcsMessages,
  type WcsTopicName,
} from '../../protocols/index.js';
import type { RateLimitedLog } from '../logger.js';
import type { AppContext } from './context.js';
import type { DeviceRegistry, DeviceView } from './device-registry.js';
import type { TaskProgressService } from './task-progress.js';

export interface IngestHooks {
  /** A vehicle announced itself before the core saw its state: ask for it (stateRequest). */
  onVehicleNeedsState(view: DeviceView): void;
  /** A device changed in a way that may free it for work. */
  onDeviceChanged(view: DeviceView): void;
  /** A vehicle state, after the registry and task progress applied it (traffic control). */
  onVdaState?(view: DeviceView, s: VdaState): void;
}

/**
 * Kinds whose messages are snapshots of a device's current state: an older one arriving after a
 * newer one (a QoS 1 redelivery, a buffer replayed after a reconnect) would move the device back
 * in time — traffic control would park a vehicle on a node it left and block others behind a
 * phantom. `connection` is not among them: a last will carries the timestamp of the connect.
 */
const SNAPSHOT_KINDS: ReadonlySet<string> = new Set(['state', 'visualization', 'jobState', 'telemetry']);

export class Ingest {
  /** Newest applied (headerId, timestamp) per device and snapshot kind. */
  private readonly newest = new Map<string, { headerId: number; at: number }>();

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly progress: TaskProgressService,
    private readonly hooks: IngestHooks,
    private readonly interfaceName: string,
    private readonly complain: RateLimitedLog,
  ) {}

  handle(topic: string, payload: Buffer): void {
    try {
      const vda = parseVdaTopic(topic);
      if (vda && vda.interfaceName === this.interfaceName) {
        this.handleVda(vda.manufacturer, vda.serialNumber, vda.topic, payload);
        return;
      }
      const wcs = parseWcsTopic(topic);
      if (wcs && wcs.site === this.ctx.siteId) {
        this.handleWcs(wcs.deviceId, wcs.deviceClass, wcs.topic, payload);
        return;
      }
      this.reject('unknown', 'topic', topic, 'unrecognised topic', topic);
    } catch (err) {
      // Anything that escapes the decoders is still a bad message, never a crash.
      const reason = err instanceof ProtocolError ? err.message : `internal: ${(err as Error).message}`;
      if (!(err instanceof ProtocolError)) this.ctx.logger.error({ err, topic }, 'inbound message handling failed');
      this.reject(topic.startsWith('wcs/') ? 'wcs' : 'vda5050', lastLevel(topic), topic, reason, topic);
    }
  }

  private handleVda(manufacturer: string, serialNumber: string, kind: VdaTopicName, payload: Buffer): void {
    const id = serialNumber;
    const now = this.ctx.clock.now();
    switch (kind) {
      case 'order':
      case 'instantActions':
        return; // our own commands, delivered back to us by a wildcard subscription
      case 'state': {
        const s = this.decodeVda('state', manufacturer, serialNumber, payload);
        if (!s) return;
        const view = this.registry.onVdaState(id, s, now);
        this.progress.onVdaState(id, serialNumber, s);
        this.hooks.onVdaState?.(view, s);
        this.hooks.onDeviceChanged(view);
        return;
      }
      case 'visualization': {
        const v = this.decodeVda('visualization', manufacturer, serialNumber, payload);
        if (v) this.hooks.onDeviceChanged(this.registry.onVdaVisualization(id, v, now));
        return;
      }
      case 'connection': {
        const c = this.decodeVda('connection', manufacturer, serialNumber, payload);
        if (!c) return;
        const view = this.registry.onVdaConnection(id, c, now);
        if (view.connection === 'ONLINE' && view.stateSeenAt === undefined) this.hooks.onVehicleNeedsState(view);
        this.hooks.onDeviceChanged(view);
        return;
      }
      case 'factsheet': {
        const f = this.decodeVda('factsheet', manufacturer, serialNumber, payload);
        if (f) this.registry.onVdaFactsheet(id, f);
        return;
      }
    }
  }

  private decodeVda<K extends VdaTopicName>(kind: K, manufacturer: string, serialNumber: string, payload: Buffer): VdaMessages[K] | undefined {
    const source = `${manufacturer}/${serialNumber}`;
    let msg: VdaMessages[K];
    try {
      msg = decodeVda(kind, payload);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // The message already summarises the first problems with their paths.
      this.reject('vda5050', kind, source, err.message);
      return undefined;
    }
    const header = msg as { manufacturer: string; serialNumber: string; headerId: number; timestamp: string };
    if (header.serialNumber !== serialNumber || header.manufacturer !== manufacturer) {
      this.reject('vda5050', kind, source, 'header manufacturer/serialNumber differ from the topic');
      return undefined;
    }
    const stale = this.staleness(`vda5050:${source}:${kind}`, kind, header.headerId, header.timestamp);
    if (stale) {
      this.reject('vda5050', kind, source, stale);
      return undefined;
    }
    this.ctx.metrics.mqttMessagesReceived.inc({ family: 'vda5050', topic: kind });
    return msg;
  }

  private handleWcs(deviceId: string, deviceClass: 'asrs' | 'conveyor' | 'arm', kind: WcsTopicName, payload: Buffer): void {
    const now = this.ctx.clock.now();
    switch (kind) {
      case 'job':
      case 'instantActions':
        return;
      case 'jobState': {
        const s = this.decodeWcs('jobState', deviceId, payload);
        if (!s) return;
        this.registry.onWcsJobState(deviceId, deviceClass, s, now);
        this.progress.onWcsJobState(deviceId, s);
        break;
      }
      case 'telemetry': {
        const t = this.decodeWcs('telemetry', deviceId, payload);
        if (!t) return;
        this.registry.onWcsTelemetry(deviceId, deviceClass, t, now);
        break;
      }
      case 'connection': {
        const c = this.decodeWcs('connection', deviceId, payload);
        if (!c) return;
        this.registry.onWcsConnection(deviceId, deviceClass, c, now);
        break;
      }
      case 'factsheet': {
        const f = this.decodeWcs('factsheet', deviceId, payload);
        if (!f) return;
        this.registry.onWcsFactsheet(deviceId, deviceClass, f);
        break;
      }
    }
    const view = this.registry.get(deviceId);
    if (view) this.hooks.onDeviceChanged(view);
  }

  private decodeWcs<K extends WcsTopicName>(kind: K, deviceId: string, payload: Buffer): WcsMessages[K] | undefined {
    let msg: WcsMessages[K];
    try {
      msg = decodeWcs(kind, payload);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.reject('wcs', kind, deviceId, err.message);
      return undefined;
    }
    if (msg.header.deviceId !== deviceId) {
      this.reject('wcs', kind, deviceId, `header deviceId ${msg.header.deviceId} differs from the topic`);
      return undefined;
    }
    const stale = this.staleness(`wcs:${deviceId}:${kind}`, kind, msg.header.headerId, msg.header.timestamp);
    if (stale) {
      this.reject('wcs', kind, deviceId, stale);
      return undefined;
    }
    this.ctx.metrics.mqttMessagesReceived.inc({ family: 'wcs', topic: kind });
    return msg;
  }

  /**
   * Why a snapshot message is stale, or undefined to apply it (and remember it as the newest).
   * Stale means older on both counts: a lower headerId and an earlier timestamp than one already
   * applied. A rebooted device restarts its headerIds but stamps the current time, so it is
   * heard at once; exact duplicates are not stale (applying them again changes nothing).
   */
  private staleness(key: string, kind: string, headerId: number, timestamp: string): string | undefined {
    if (!SNAPSHOT_KINDS.has(kind)) return undefined;
    const at = Date.parse(timestamp);
    const last = this.newest.get(key);
    if (last && headerId < last.headerId && at < last.at) {
      return `stale: headerId ${headerId} at ${timestamp} is older than headerId ${last.headerId} at ${new Date(last.at).toISOString()}, already applied`;
    }
    if (Number.isNaN(at)) return undefined;
    // Updated in place: this runs for every state a fleet sends.
    if (last) {
      last.headerId = headerId;
      last.at = at;
    } else this.newest.set(key, { headerId, at });
    return undefined;
  }

  private reject(family: string, kind: string, source: string, reason: string, topic?: string): void {
    this.ctx.metrics.mqttMessagesRejected.inc({ family, topic: kind, reason: reasonClass(reason) });
    this.complain(`${family}:${source}`, 'dropped an invalid inbound message', { family, kind, source, reason, topic });
  }
}

function lastLevel(topic: string): string {
  return topic.slice(topic.lastIndexOf('/') + 1) || 'unknown';
}

/** A low-cardinality label for the metrics; the full reason goes to the log. */
function reasonClass(reason: string): string {
  if (reason.startsWith('unrecognised topic')) return 'topic';
  if (reason.startsWith('internal')) return 'internal';
  if (reason.startsWith('stale')) return 'stale';
  if (reason.includes('differ')) return 'identity';
  return 'decode';
}
