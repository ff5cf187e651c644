/**
 * Turns what the core knows into telemetry points (DESIGN §6) with the measurement, tag and field
 * names the Grafana dashboard reads (dashboards/grafana/dashboards/pickwire.json):
 *
 *   device  tags site, device, class, state   fields battery, x, y, speed, busy (0/1),
 *                                                    charging (0/1), errors, queue
 *   orders  tags site, channel                field  accepted  (orders in the interval)
 *   lines   tags site, zone                   fields picked (lines), units (quantity)
 *
 * Pure apart from the sink it writes to: time comes from the injected clock, and nothing here
 * does I/O. Device samples are throttled per device; order and line counts are summed in memory
 * and written as one point per key per interval by `tick()`, so a burst of 1000 orders costs one
 * point, not 1000. Tag values that come from outside (channel names, zones) are capped in number
 * so a misbehaving client cannot explode the series count in InfluxDB.
 */
import type { TelemetryPoint, TelemetrySink } from '../ports.js';
import type { DeviceView } from './device-registry.js';

export interface TelemetryRecorderOptions {
  sink: TelemetrySink;
  site: string;
  now: () => number;
  /** At most one `device` point per device per this long, unless its status changes. Default 1000. */
  deviceIntervalMs?: number;
  /** Length of one `orders`/`lines` counting interval. Default 10_000. */
  counterIntervalMs?: number;
  /** Distinct channel / zone values kept as their own tag value; later ones count as `other`. Default 100. */
  maxTagValues?: number;
}

/** What the registry's view does not carry but the caller may know. */
export interface DeviceExtras {
  /** Tasks waiting for this device (dispatcher queue length). */
  queue?: number;
  /** m/s as reported by the device; otherwise derived from successive positions. */
  speed?: number;
}

/** Statuses in which the view's battery and position are not current (see DeviceRegistry.status). */
const NOT_CURRENT = new Set(['offline', 'stale', 'unknown']);
const OTHER = 'other';

interface DeviceSample {
  at: number;
  status: string;
  x: number | undefined;
  y: number | undefined;
  mapId: string | undefined;
}

export class TelemetryRecorder {
  private readonly sink: TelemetrySink;
  private readonly site: string;
  private readonly now: () => number;
  private readonly deviceIntervalMs: number;
  private readonly counterIntervalMs: number;
  private readonly maxTagValues: number;
  private readonly lastDevice = new Map<string, DeviceSample>();
  /** Keys stay once seen so an idle interval writes 0 rather than a gap. */
  private readonly accepted = new Map<string, number>();
  private readonly picked = new Map<string, { lines: number; units: number }>();
  private intervalStart: number;
  private readonly counts = { devicePoints: 0, deviceThrottled: 0, counterPoints: 0 };

  constructor(opts: TelemetryRecorderOptions) {
    this.sink = opts.sink;
    this.site = opts.site;
    this.now = opts.now;
    this.deviceIntervalMs = opts.deviceIntervalMs ?? 1000;
    this.counterIntervalMs = opts.counterIntervalMs ?? 10_000;
    this.maxTagValues = opts.maxTagValues ?? 100;
    this.intervalStart = this.now();
  }

  get stats(): { devicePoints: number; deviceThrottled: number; counterPoints: number } {
    return { ...this.counts };
  }

  /**
   * One `device` sample, unless this device was sampled less than `deviceIntervalMs` ago with the
   * same status. Returns whether a point was written. Call it on every device change and also
   * periodically for every device, so utilisation is sampled evenly even for quiet devices.
   */
  recordDevice(view: DeviceView, status: string, extras: DeviceExtras = {}): boolean {
    const at = this.now();
    const prev = this.lastDevice.get(view.id);
    if (prev && prev.status === status && at - prev.at < this.deviceIntervalMs && at >= prev.at) {
      this.counts.deviceThrottled++;
      return false;
    }
    const current = !NOT_CURRENT.has(status);
    const fields: Record<string, number> = { busy: status === 'busy' ? 1 : 0 };
    const pos = view.position;
    if (current) {
      if (view.battery !== undefined) fields.battery = view.battery;
      fields.charging = view.charging ? 1 : 0;
      fields.errors = view.errors.length;
      if (pos) {
        fields.x = pos.x;
        fields.y = pos.y;
      }
      const speed = extras.speed ?? derivedSpeed(prev, pos, at);
      if (speed !== undefined) fields.speed = speed;
    }
    if (extras.queue !== undefined) fields.queue = extras.queue;
    this.emit({
      measurement: 'device',
      tags: { site: this.site, device: view.id, class: view.class, state: status },
      fields,
      at,
    });
    this.lastDevice.set(view.id, { at, status, x: pos?.x, y: pos?.y, mapId: pos?.mapId });
    this.counts.devicePoints++;
    return true;
  }

  /** A device left the fleet: forget its throttle state. */
  forgetDevice(id: string): void {
    this.lastDevice.delete(id);
  }

  recordOrderAccepted(channel: string): void {
    const key = this.boundedKey(this.accepted, channel);
    this.accepted.set(key, (this.accepted.get(key) ?? 0) + 1);
  }

  recordLinePicked(zone: string | undefined, quantity: number): void {
    const key = this.boundedKey(this.picked, zone ?? 'none');
    const c = this.picked.get(key) ?? { lines: 0, units: 0 };
    c.lines++;
    if (Number.isFinite(quantity) && quantity > 0) c.units += quantity;
    this.picked.set(key, c);
  }

  /** Call about once a second: writes the counters when the current interval is over. */
  tick(): void {
    if (this.now() - this.intervalStart >= this.counterIntervalMs) this.flushCounters();
  }

  /** Writes the counters of the interval so far (on shutdown, or from `tick`) and starts a new one. */
  flushCounters(): void {
    const at = this.now();
    for (const [channel, n] of this.accepted) {
      this.emit({ measurement: 'orders', tags: { site: this.site, channel }, fields: { accepted: n }, at });
      this.accepted.set(channel, 0);
    }
    for (const [zone, c] of this.picked) {
      this.emit({ measurement: 'lines', tags: { site: this.site, zone }, fields: { picked: c.lines, units: c.units }, at });
      this.picked.set(zone, { lines: 0, units: 0 });
    }
    this.counts.counterPoints += this.accepted.size + this.picked.size;
    this.intervalStart = at;
  }

  private boundedKey(map: Map<string, unknown>, value: string): string {
    const v = value === '' ? 'none' : value;
    return map.has(v) || map.size < this.maxTagValues ? v : OTHER;
  }

  private emit(point: TelemetryPoint): void {
    this.sink.write(point);
  }
}

function derivedSpeed(prev: DeviceSample | undefined, pos: DeviceView['position'], at: number): number | undefined {
  if (!prev || !pos || prev.x === undefined || prev.y === undefined || prev.mapId !== pos.mapId) return undefined;
  const dt = (at - prev.at) / 1000;
  if (dt <= 0) return undefined;
  return Math.hypot(pos.x - prev.x, pos.y - prev.y) / dt;
}
