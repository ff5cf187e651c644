/**
 * What the core knows about every device, built only from what devices send (DESIGN §2):
 * factsheets, `connection`, `state`/`jobState`, visualization and telemetry. Reachability is
 * judged from all of it together — a retained `connection` alone can be stale.
 */
import type { VdaConnection, VdaFactsheet, VdaState, VdaVisualization, WcsConnection, WcsFactsheet, WcsJobState, WcsTelemetry } from '../../protocols/index.js';
import type { DeviceClass } from '../domain/records.js';

export type ConnectionState = 'ONLINE' | 'OFFLINE' | 'CONNECTIONBROKEN' | 'UNKNOWN';
export type DeviceStatus = 'idle' | 'busy' | 'paused' | 'error' | 'stale' | 'offline' | 'unknown' | 'out-of-service';

export interface DevicePosition {
  x: number;
  y: number;
  theta: number;
  mapId: string;
}

export interface DeviceView {
  id: string;
  class: DeviceClass;
  manufacturer: string | undefined;
  serialNumber: string | undefined;
  connection: ConnectionState;
  lastSeenAt: number | undefined;
  /** When the core last saw a full state (VDA `state`, wcs `jobState` or telemetry). */
  stateSeenAt: number | undefined;
  battery: number | undefined;
  charging: boolean;
  position: DevicePosition | undefined;
  lastNodeId: string | undefined;
  driving: boolean;
  paused: boolean;
  /** The vehicle's current VDA order and whether it still has work in it. */
  orderId: string | undefined;
  orderActive: boolean;
  deviceState: string | undefined;
  task: string | undefined;
  errors: string[];
  supportedActions: string[];
  /**
   * Action types the factsheet allows on order nodes (scope NODE); undefined until a factsheet
   * said so. A vehicle may take e.g. startCharging only as an instant action.
   */
  nodeActions?: string[] | undefined;
  outOfService: boolean;
}

export interface RegistryOptions {
  /** A device silent for longer than this is stale: no new work goes to it. */
  watchdogMs: number;
  /** Vehicles under this battery percent take no new trip (they go to charge instead). */
  lowBatteryPercent?: number;
}

export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceView>();
  private readonly dirty = new Set<string>();

  constructor(private readonly opts: RegistryOptions) {}

  /** How long a device may stay silent before it counts as unreachable (vehicle profiles may differ). */
  get watchdogMs(): number {
    return this.opts.watchdogMs;
  }

  /** Adds the devices a site layout declares, so they show (as unknown) before they speak. */
  declare(id: string, deviceClass: DeviceClass, ids: { manufacturer?: string; serialNumber?: string } = {}): DeviceView {
    const existing = this.devices.get(id);
    if (existing) return existing;
    const view: DeviceView = {
      id,
      class: deviceClass,
      manufacturer: ids.manufacturer,
      serialNumber: ids.serialNumber,
      connection: 'UNKNOWN',
      lastSeenAt: undefined,
      stateSeenAt: undefined,
      battery: undefined,
      charging: false,
      position: undefined,
      lastNodeId: undefined,
      driving: false,
      paused: false,
      orderId: undefined,
      orderActive: false,
      deviceState: undefined,
      task: undefined,
      errors: [],
      supportedActions: [],
      outOfService: false,
    };
    this.devices.set(id, view);
    this.dirty.add(id);
    return view;
  }

  /** Where reserved paths come from (traffic control), for views of the floor. */
  private reservations: ((id: string) => string[]) | undefined;

  useReservations(source: (id: string) => string[]): void {
    this.reservations = source;
  }

  /** The nodes traffic control holds for the vehicle now; empty without traffic control. */
  reservedNodes(id: string): string[] {
    return this.reservations?.(id) ?? [];
  }

  get(id: string): DeviceView | undefined {
    return this.devices.get(id);
  }

  list(): DeviceView[] {
    return [...this.devices.values()];
  }

  /** Restores persisted views after a restart; liveness starts over until devices speak again. */
  restore(view: DeviceView): void {
    this.devices.set(view.id, { ...view, connection: 'UNKNOWN', stateSeenAt: undefined, lastSeenAt: undefined });
  }

  takeDirty(): DeviceView[] {
    const out = [...this.dirty].flatMap((id) => this.devices.get(id) ?? []);
    this.dirty.clear();
    return out;
  }

  status(d: DeviceView, now: number): DeviceStatus {
    if (d.outOfService) return 'out-of-service';
    if (d.connection === 'OFFLINE' || d.connection === 'CONNECTIONBROKEN') return 'offline';
    if (d.lastSeenAt === undefined) return 'unknown';
    if (now - d.lastSeenAt > this.opts.watchdogMs) return 'stale';
    // A fault reported in telemetry (a jammed belt) counts as much as one with error records.
    if (d.deviceState === 'FAULT') return 'error';
    if (d.paused) return 'paused';
    return d.task !== undefined || d.orderActive || d.driving || d.deviceState === 'BUSY' ? 'busy' : 'idle';
  }

  /** Reachable: connected (or never said otherwise), heard from within the watchdog, state seen. */
  isReachable(d: DeviceView, now: number): boolean {
    if (d.outOfService || d.connection === 'OFFLINE' || d.connection === 'CONNECTIONBROKEN') return false;
    return d.stateSeenAt !== undefined && d.lastSeenAt !== undefined && now - d.lastSeenAt <= this.opts.watchdogMs;
  }

  /** Vehicles that may take a new trip now. */
  freeVehicles(now: number): DeviceView[] {
    return this.list().filter(
      (d) => d.class === 'amr' && this.isReachable(d, now) && d.task === undefined && !d.orderActive && !d.paused && d.lastNodeId !== undefined && !this.isLowOnBattery(d),
    );
  }

  /** Too low to start a trip; a vehicle already charging counts once it is back above the line. */
  isLowOnBattery(d: DeviceView): boolean {
    return this.opts.lowBatteryPercent !== undefined && d.battery !== undefined && d.battery < this.opts.lowBatteryPercent;
  }

  assign(id: string, taskId: string | undefined): void {
    const d = this.devices.get(id);
    if (!d) return;
    d.task = taskId;
    this.dirty.add(id);
  }

  setOutOfService(id: string, outOfService: boolean): void {
    const d = this.devices.get(id);
    if (!d) return;
    d.outOfService = outOfService;
    this.dirty.add(id);
  }

  onVdaConnection(id: string, msg: VdaConnection, now: number): DeviceView {
    const d = this.vehicle(id, msg);
    d.connection = msg.connectionState;
    // A retained ONLINE may be old: it does not count as hearing from the vehicle.
    if (msg.connectionState !== 'ONLINE') d.lastSeenAt = undefined;
    this.touch(d, undefined, now);
    return d;
  }

  onVdaState(id: string, s: VdaState, now: number): DeviceView {
    const d = this.vehicle(id, s);
    d.stateSeenAt = now;
    if (d.connection !== 'ONLINE') d.connection = 'ONLINE';
    d.lastNodeId = s.lastNodeId || d.lastNodeId;
    d.driving = s.driving;
    d.paused = s.paused ?? false;
    d.orderId = s.orderId || undefined;
    d.orderActive =
      s.nodeStates.length > 0 ||
      s.edgeStates.length > 0 ||
      s.actionStates.some((a) => a.actionStatus !== 'FINISHED' && a.actionStatus !== 'FAILED');
    d.battery = s.batteryState.batteryCharge;
    d.charging = s.batteryState.charging;
    if (s.agvPosition) d.position = { x: s.agvPosition.x, y: s.agvPosition.y, theta: s.agvPosition.theta, mapId: s.agvPosition.mapId };
    d.errors = s.errors.map((e) => `${e.errorType}${e.errorDescription ? `: ${e.errorDescription}` : ''}`);
    d.deviceState = s.errors.some((e) => e.errorLevel === 'FATAL') ? 'FAULT' : undefined;
    this.touch(d, undefined, now);
    return d;
  }

  onVdaVisualization(id: string, v: VdaVisualization, now: number): DeviceView {
    const d = this.vehicle(id, v);
    if (v.agvPosition) d.position = { x: v.agvPosition.x, y: v.agvPosition.y, theta: v.agvPosition.theta, mapId: v.agvPosition.mapId };
    this.touch(d, undefined, now);
    return d;
  }

  onVdaFactsheet(id: string, f: VdaFactsheet): DeviceView {
    const d = this.vehicle(id, f);
    d.supportedActions = (f.protocolFeatures?.agvActions ?? []).map((a) => a.actionType);
    d.nodeActions = (f.protocolFeatures?.agvActions ?? []).filter((a) => a.actionScopes?.includes('NODE')).map((a) => a.actionType);
    this.dirty.add(id);
    return d;
  }

  onWcsConnection(id: string, deviceClass: DeviceClass, msg: WcsConnection, now: number): DeviceView {
    const d = this.declare(id, deviceClass);
    d.connection = msg.connectionState;
    // As with vehicles, ONLINE alone does not make a device reachable: its state must follow.
    if (msg.connectionState !== 'ONLINE') d.lastSeenAt = undefined;
    this.touch(d, undefined, now);
    return d;
  }

  onWcsJobState(id: string, deviceClass: DeviceClass, s: WcsJobState, now: number): DeviceView {
    const d = this.declare(id, deviceClass);
    d.paused = s.paused;
    d.errors = s.errors.map((e) => `${e.errorType}${e.errorDescription ? `: ${e.errorDescription}` : ''}`);
    this.touch(d, now, now);
    return d;
  }

  onWcsTelemetry(id: string, deviceClass: DeviceClass, t: WcsTelemetry, now: number): DeviceView {
    const d = this.declare(id, deviceClass);
    if (d.connection === 'UNKNOWN') d.connection = 'ONLINE';
    d.deviceState = t.deviceState;
    d.paused = t.deviceState === 'PAUSED';
    if (t.batteryCharge !== undefined) d.battery = t.batteryCharge;
    this.touch(d, now, now);
    return d;
  }

  onWcsFactsheet(id: string, deviceClass: DeviceClass, f: WcsFactsheet): DeviceView {
    const d = this.declare(id, deviceClass, { manufacturer: f.manufacturer });
    d.supportedActions = f.supportedActions.map((a) => a.actionType);
    this.dirty.add(id);
    return d;
  }

  private vehicle(id: string, ids: { manufacturer: string; serialNumber: string }): DeviceView {
    return this.declare(id, 'amr', { manufacturer: ids.manufacturer, serialNumber: ids.serialNumber });
  }

  private touch(d: DeviceView, stateSeenAt: number | undefined, now: number): void {
    if (stateSeenAt !== undefined) d.stateSeenAt = stateSeenAt;
    if (d.connection !== 'OFFLINE' && d.connection !== 'CONNECTIONBROKEN') d.lastSeenAt = now;
    this.dirty.add(d.id);
  }
}
