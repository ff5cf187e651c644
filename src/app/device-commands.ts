/**
 * Operator commands to one device (DESIGN §9, `POST /devices/:id/commands`): pause and resume,
 * send a vehicle to charge, take a device out of service and back.
 *
 * Commands that reach the device go through the outbox in the same transaction as their journal
 * entry, like every other command. What the device then does is known only from its own reports:
 * a pause shows as `paused` when the device says so, never because the core asked.
 *
 * Charging: the vehicle gets a VDA order to the nearest free charger and is held (a synthetic
 * task `charge-<serial>-<n>` in the registry) so the dispatcher sends it no trip. VDA 5050 allows
 * `startCharging` on a node or as an instant action, and vendors differ: the order carries it on
 * the charger's node when the factsheet allows that scope (or is silent: standard actions), else
 * the core sends it as an instant action once the vehicle reports it has arrived. The hold ends
 * when the vehicle reports it no longer charges (full, or stopped at the charger), or when the
 * charge failed (order rejected, startCharging FAILED, order ended away from a charger). An
 * operator who sends a robot to charge wants it charged, not whisked off by the next trip.
 */
import { encodeVda, vdaTopic, type VdaState } from '../../protocols/index.js';
import { buildChargeOrder, chargeActionIdOf } from '../domain/commands.js';
import { enqueueVdaInstantActions, enqueueWcsInstantActions } from './instant-actions.js';
import type { TrafficController } from './traffic-controller.js';
import type { Route } from '../domain/route-graph.js';
import type { SiteLayout } from '../domain/site-layout.js';
import { PickwireError } from '../errors.js';
import type { AppContext } from './context.js';
import { correlationOf, vdaOrderHeader } from './correlation.js';
import type { DeviceRegistry, DeviceView } from './device-registry.js';
import type { TaskProgressService } from './task-progress.js';
import { runInTransaction } from './unit-of-work.js';

export const DEVICE_COMMANDS = ['pause', 'resume', 'charge', 'out-of-service', 'in-service'] as const;
export type DeviceCommandType = (typeof DEVICE_COMMANDS)[number];

/** Journal event per command (`domain.verb`). */
export const DEVICE_COMMAND_EVENTS = {
  pause: 'device.paused',
  resume: 'device.resumed',
  charge: 'device.chargeRequested',
  'out-of-service': 'device.outOfService',
  'in-service': 'device.inService',
} as const satisfies Record<DeviceCommandType, string>;

export interface DeviceCommandOptions {
  /** VDA 5050 interface name for topics (`uagv` by default). */
  interfaceName: string;
  /** Where vehicle states arrive; the service watches them for the end of its charge orders. */
  progress: Pick<TaskProgressService, 'watchVdaStates'>;
  /** MQTT 5 expiry of pause/resume instant actions: a pause must not land minutes late. 60 by default. */
  instantExpirySeconds?: number;
  /**
   * Traffic control: when given, the drive to the charger goes through it like any trip (base
   * released onto reserved nodes only), so it never drives into another vehicle's path.
   */
  traffic?: Pick<TrafficController, 'startDrive'>;
}

export interface DeviceCommandHooks {
  /** Commands were written to the outbox: drain it. */
  onCommandsQueued: () => void;
  /** The service changed a device's flags or assignment (not the device's own report): show it, dispatch. */
  onDeviceChanged?: (view: DeviceView) => void;
}

export interface DeviceCommandOutcome {
  type: DeviceCommandType;
  /** False for flag-only commands (out-of-service, in-service): nothing goes to the device. */
  sent: boolean;
  at: string;
  /** The protocol action or order sent: its type and id (the id shows in the device's state). */
  actionType?: string;
  commandId?: string;
  charger?: { id: string; nodeId: string };
}

export interface DeviceCommandResult {
  device: DeviceView;
  command: DeviceCommandOutcome;
}

type Charger = SiteLayout['chargers'][number];

const CHARGE_PREFIX = 'charge-';
/** VDA 5050 errors with which a vehicle refuses an order (§6.6). */
const REJECTIONS = new Set(['orderError', 'orderUpdateError', 'noRouteError', 'validationError']);
/** Pause/resume pairs by preference: the VDA 5050 names, then the wcs/v1 proto's own examples. */
const PAUSE_PAIRS = [
  { pause: 'startPause', resume: 'stopPause' },
  { pause: 'pauseJob', resume: 'resumeJob' },
] as const;

export class DeviceCommandService {
  /** Charge orders under way: the charger each vehicle was sent to (not persisted; see nearestFreeCharger). */
  private readonly charges = new Map<string, { orderId: string; charger: Charger }>();
  /** Charge orders whose instant startCharging has gone out, and whose start was journaled. */
  private readonly instantSent = new Set<string>();
  private readonly started = new Set<string>();
  private readonly confirmed = new Set<string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly opts: DeviceCommandOptions,
    private readonly hooks: DeviceCommandHooks,
  ) {
    // Operator decisions outlive a restart. The core restores saved views only for devices the
    // layout does not declare (declared ones start fresh and learn their state from the devices),
    // so an out-of-service flag, which no device reports, is put back here.
    for (const saved of ctx.store.loadDevices()) {
      const data = saved.data as Partial<DeviceView> | null;
      if (data?.outOfService === true && registry.get(saved.id)?.outOfService === false) registry.setOutOfService(saved.id, true);
    }
    opts.progress.watchVdaStates((deviceId, serialNumber, s) => {
      try {
        this.onVehicleState(deviceId, serialNumber, s);
      } catch (err) {
        this.ctx.logger.error({ err, deviceId }, 'charge progress failed');
      }
    });
  }

  execute(deviceId: string, type: DeviceCommandType, actor: string | undefined): DeviceCommandResult {
    const view = this.registry.get(deviceId);
    if (!view) throw new PickwireError('PW_ERR_NOT_FOUND', `no device ${deviceId}`);
    switch (type) {
      case 'pause':
      case 'resume':
        return this.pauseOrResume(view, type, actor);
      case 'charge':
        return this.charge(view, actor);
      case 'out-of-service':
      case 'in-service':
        return this.setService(view, type, actor);
    }
  }

  // -- pause / resume ---------------------------------------------------------------------------

  private pauseOrResume(view: DeviceView, type: 'pause' | 'resume', actor: string | undefined): DeviceCommandResult {
    this.requireListening(view, type);
    const actionType = this.pauseActionType(view, type);
    const { store, clock } = this.ctx;
    const now = clock.now();
    const expirySeconds = this.opts.instantExpirySeconds ?? 60;
    const vehicle = view.class === 'amr' ? this.vehicleRef(view) : undefined;
    const commandId = runInTransaction(store, () => {
      const actionId = `${type}-${view.id}-${store.nextId(`device:${view.id}:command`)}`;
      if (vehicle) enqueueVdaInstantActions(this.ctx, this.opts.interfaceName, vehicle, [{ actionId, actionType, blockingType: 'HARD' }], expirySeconds);
      else enqueueWcsInstantActions(this.ctx, { deviceClass: view.class as 'asrs' | 'conveyor' | 'arm', deviceId: view.id }, [{ actionId, actionType, blockingType: 'HARD', actionParameters: [] }], expirySeconds);
      this.journal(view.id, DEVICE_COMMAND_EVENTS[type], actor, now, { command: type, sent: true, actionType, actionId });
      return actionId;
    });
    this.hooks.onCommandsQueued();
    this.ctx.logger.info({ deviceId: view.id, command: type, actionType, actionId: commandId, actor }, 'device command sent');
    return { device: view, command: { type, sent: true, at: new Date(now).toISOString(), actionType, commandId } };
  }

  /**
   * VDA vehicles pause with the standard startPause/stopPause; wcs devices with the pair their
   * factsheet declares. A silent factsheet means the standard names.
   */
  private pauseActionType(view: DeviceView, type: 'pause' | 'resume'): string {
    const declared = view.supportedActions;
    const pairs = view.class === 'amr' ? PAUSE_PAIRS.slice(0, 1) : PAUSE_PAIRS;
    if (declared.length === 0) return PAUSE_PAIRS[0][type];
    const pair = pairs.find((p) => declared.includes(p[type]));
    if (pair) return pair[type];
    throw new PickwireError(
      'PW_ERR_INVALID_STATE',
      `${view.id} cannot ${type}: its factsheet declares no ${pairs.map((p) => p[type]).join(' or ')} action (it declares ${declared.join(', ')})`,
    );
  }

  // -- charge -----------------------------------------------------------------------------------

  private charge(view: DeviceView, actor: string | undefined): DeviceCommandResult {
    const { store, clock, graph, layout } = this.ctx;
    const now = clock.now();
    if (view.class !== 'amr') throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} is ${view.class === 'asrs' ? 'an' : 'a'} ${view.class}: only AMRs can be sent to charge`);
    if (view.outOfService) throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} is out of service: put it in service before sending it to charge`);
    const why = this.unreachable(view, now);
    if (why !== undefined) throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} cannot be sent to charge: ${why}`);
    if (view.task?.startsWith(CHARGE_PREFIX)) throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} is already charging or on its way to a charger (${view.task})`);
    if (view.task !== undefined) throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} is working on task ${view.task}: finish or cancel its task first`);
    if (view.orderActive) throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} is still executing order ${view.orderId ?? '(unknown)'}: finish or cancel its task first`);
    const nodeAction = this.chargesOnNode(view);
    const { charger, route } = this.nearestFreeCharger(view);
    const { manufacturer, serialNumber } = this.vehicleRef(view);

    const traffic = this.opts.traffic;
    const orderId = runInTransaction(store, () => {
      const id = `${CHARGE_PREFIX}${serialNumber}-${store.nextId(`charge:${serialNumber}`)}`;
      if (!traffic) {
        const order = buildChargeOrder({
          header: vdaOrderHeader(this.ctx, serialNumber),
          vehicle: { manufacturer, serialNumber },
          graph,
          mapId: layout.site.mapId,
          orderId: id,
          route,
          nodeAction,
        });
        // Re-sent until the vehicle's state echoes it, like a trip (DESIGN §2.1).
        store.enqueue({
          topic: vdaTopic({ interfaceName: this.opts.interfaceName, manufacturer, serialNumber }, 'order'),
          payload: Buffer.from(encodeVda('order', order)),
          qos: 1,
          retain: false,
          expirySeconds: undefined,
          correlation: correlationOf.vda(serialNumber, id, 0),
        });
      }
      this.journal(view.id, DEVICE_COMMAND_EVENTS.charge, actor, now, {
        command: 'charge',
        sent: true,
        actionType: 'order',
        orderId: id,
        charger: charger.id,
        nodeId: charger.nodeId,
        from: view.lastNodeId ?? null,
        routeLength: route.length,
        travelTime: route.travelTime,
        startCharging: nodeAction && !traffic ? 'node action' : 'instant action on arrival',
        battery: view.battery ?? null,
      });
      return id;
    });
    // Under traffic control the drive's order is written by the controller (startCharging then
    // follows on arrival as an instant action, as for vehicles that take it only that way).
    if (traffic && !traffic.startDrive(view, orderId, route.nodes)) {
      throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} has no drivable route to ${charger.id}`);
    }
    // Held from now on: the dispatcher must not send a trip before the vehicle is charged.
    this.registry.assign(view.id, orderId);
    this.charges.set(view.id, { orderId, charger });
    this.hooks.onCommandsQueued();
    this.hooks.onDeviceChanged?.(view);
    this.ctx.logger.info({ deviceId: view.id, orderId, charger: charger.id, actor }, 'vehicle sent to charge');
    return {
      device: view,
      command: { type: 'charge', sent: true, at: new Date(now).toISOString(), actionType: 'order', commandId: orderId, charger: { id: charger.id, nodeId: charger.nodeId } },
    };
  }

  /** True: startCharging rides on the order's last node; false: it is sent as an instant action on arrival. */
  private chargesOnNode(view: DeviceView): boolean {
    // A silent factsheet means standard actions (DESIGN §2.1); startCharging is standard in both scopes.
    if (view.supportedActions.length === 0 || view.nodeActions?.includes('startCharging')) return true;
    if (view.supportedActions.includes('startCharging')) return false;
    throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} cannot be sent to charge: its factsheet declares no startCharging action`);
  }

  /**
   * The charger nearest by travel time that no other vehicle stands on or has been sent to.
   * Charge orders under way are remembered in memory only; after a restart a vehicle that
   * already reached its charger still keeps it taken by standing there.
   */
  private nearestFreeCharger(view: DeviceView): { charger: Charger; route: Route } {
    const { graph, layout } = this.ctx;
    const from = view.lastNodeId;
    if (from === undefined || !graph.has(from)) {
      throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} cannot be sent to charge: its position on the route graph is unknown (last node ${from ?? 'none'})`);
    }
    if (layout.chargers.length === 0) throw new PickwireError('PW_ERR_INVALID_STATE', `the site layout has no chargers to send ${view.id} to`);
    const takenBy = new Map<string, string>();
    for (const other of this.registry.list()) {
      if (other.id === view.id || other.class !== 'amr') continue;
      const sent = this.charges.get(other.id);
      if (sent && other.task === sent.orderId) takenBy.set(sent.charger.nodeId, other.id);
      if (other.lastNodeId !== undefined && !takenBy.has(other.lastNodeId)) takenBy.set(other.lastNodeId, other.id);
    }
    let best: { charger: Charger; route: Route } | undefined;
    const taken: string[] = [];
    for (const charger of layout.chargers) {
      const by = takenBy.get(charger.nodeId);
      if (by !== undefined) {
        taken.push(`${charger.id} by ${by}`);
        continue;
      }
      if (!graph.has(charger.nodeId)) continue;
      const route = graph.shortestPath(from, charger.nodeId);
      if (route && (!best || route.travelTime < best.route.travelTime)) best = { charger, route };
    }
    if (best) return best;
    if (taken.length === layout.chargers.length) throw new PickwireError('PW_ERR_INVALID_STATE', `no free charger for ${view.id}: every charger is taken (${taken.join(', ')})`);
    throw new PickwireError('PW_ERR_INVALID_STATE', `no free charger can be reached from ${from}, where ${view.id} stands${taken.length > 0 ? ` (taken: ${taken.join(', ')})` : ''}`);
  }

  /** Follows a charge order through the vehicle's states; see the file comment for when it ends. */
  private onVehicleState(deviceId: string, serialNumber: string, s: VdaState): void {
    const chargeId = this.registry.get(deviceId)?.task;
    if (chargeId === undefined || !chargeId.startsWith(CHARGE_PREFIX)) return;
    const { store, clock } = this.ctx;
    const now = clock.now();
    const rejected = s.errors.find((e) => REJECTIONS.has(e.errorType) && e.errorReferences?.some((r) => r.referenceKey === 'orderId' && r.referenceValue === chargeId));
    if (rejected) {
      store.confirm(correlationOf.vda(serialNumber, chargeId, 0), now);
      return this.endCharge(deviceId, chargeId, 'device.chargeFailed', { reason: `vehicle rejected the order: ${rejected.errorType}${rejected.errorDescription ? ` (${rejected.errorDescription})` : ''}` });
    }
    // Not accepted yet: the outbox re-sends the order until the state echoes it.
    if (s.orderId !== chargeId) return;
    if (!this.confirmed.has(chargeId)) {
      store.confirm(correlationOf.vda(serialNumber, chargeId, 0), now);
      this.confirmed.add(chargeId);
    }
    const action = s.actionStates.find((a) => a.actionId === chargeActionIdOf(chargeId));
    const battery = { battery: s.batteryState.batteryCharge, charging: s.batteryState.charging, nodeId: s.lastNodeId };
    if (action?.actionStatus === 'FAILED') {
      return this.endCharge(deviceId, chargeId, 'device.chargeFailed', { reason: `startCharging failed${action.resultDescription ? `: ${action.resultDescription}` : ''}`, ...battery });
    }
    if (action?.actionStatus === 'FINISHED') {
      if (!this.started.has(chargeId)) {
        this.started.add(chargeId);
        this.journal(deviceId, 'device.chargingStarted', undefined, now, { orderId: chargeId, ...battery });
      }
      if (!s.batteryState.charging) this.endCharge(deviceId, chargeId, 'device.chargeFinished', battery);
      return;
    }
    // On the way, or startCharging still running.
    if (action !== undefined || s.nodeStates.length > 0 || s.driving) return;
    const charger = this.ctx.layout.chargers.find((c) => c.nodeId === s.lastNodeId);
    if (!charger) return this.endCharge(deviceId, chargeId, 'device.chargeFailed', { reason: `the charge order ended at ${s.lastNodeId}, not at a charger`, ...battery });
    if (this.instantSent.has(chargeId)) return;
    // Arrived with an order that carried no startCharging (the vehicle takes it only as an instant action).
    this.instantSent.add(chargeId);
    const view = this.registry.get(deviceId);
    const manufacturer = view?.manufacturer ?? '';
    store.tx(() => {
      enqueueVdaInstantActions(this.ctx, this.opts.interfaceName, { manufacturer, serialNumber }, [
        { actionId: chargeActionIdOf(chargeId), actionType: 'startCharging', blockingType: 'HARD' },
      ]);
      this.journal(deviceId, 'device.chargeArrived', undefined, now, { orderId: chargeId, charger: charger.id, startCharging: 'instant action', ...battery });
    });
    this.hooks.onCommandsQueued();
  }

  /** Releases the vehicle to the dispatcher (the ingest's device-changed hook then runs a pass). */
  private endCharge(deviceId: string, chargeId: string, type: string, data: Record<string, unknown>): void {
    const now = this.ctx.clock.now();
    this.journal(deviceId, type, undefined, now, { orderId: chargeId, ...data });
    if (this.registry.get(deviceId)?.task === chargeId) this.registry.assign(deviceId, undefined);
    if (this.charges.get(deviceId)?.orderId === chargeId) this.charges.delete(deviceId);
    this.instantSent.delete(chargeId);
    this.started.delete(chargeId);
    this.confirmed.delete(chargeId);
    this.ctx.logger.info({ deviceId, orderId: chargeId, outcome: type, ...data }, 'charge ended');
  }

  // -- out of service / in service --------------------------------------------------------------

  private setService(view: DeviceView, type: 'out-of-service' | 'in-service', actor: string | undefined): DeviceCommandResult {
    const { store, clock } = this.ctx;
    const now = clock.now();
    const outOfService = type === 'out-of-service';
    const was = view.outOfService;
    runInTransaction(store, () => {
      // Saved with the journal entry, not only by the periodic device save: a crash right after
      // the answer must not bring the device back into service.
      store.saveDevice({ id: view.id, class: view.class, data: { ...view, outOfService }, updatedAt: now });
      this.journal(view.id, DEVICE_COMMAND_EVENTS[type], actor, now, { command: type, sent: false, outOfService, was });
    });
    this.registry.setOutOfService(view.id, outOfService);
    this.hooks.onDeviceChanged?.(view);
    this.ctx.logger.info({ deviceId: view.id, command: type, actor }, outOfService ? 'device taken out of service' : 'device back in service');
    return { device: view, command: { type, sent: false, at: new Date(now).toISOString() } };
  }

  // -- helpers ----------------------------------------------------------------------------------

  /** Pause and resume only need the device to be listening: connected and heard from. */
  private requireListening(view: DeviceView, type: DeviceCommandType): void {
    if (view.connection === 'OFFLINE' || view.connection === 'CONNECTIONBROKEN') {
      throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} cannot ${type}: its connection is offline (${view.connection}), so the command would not reach it`);
    }
    if (view.lastSeenAt === undefined) throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} cannot ${type}: it has not been heard from since the core started`);
  }

  /** Why a vehicle cannot take an order now, or undefined when it can. */
  private unreachable(view: DeviceView, now: number): string | undefined {
    if (this.registry.isReachable(view, now)) return undefined;
    if (view.connection === 'OFFLINE' || view.connection === 'CONNECTIONBROKEN') return `its connection is offline (${view.connection})`;
    if (view.stateSeenAt === undefined || view.lastSeenAt === undefined) return 'the core has not seen its state since it started';
    return `it has been silent since ${new Date(view.lastSeenAt).toISOString()}`;
  }

  private vehicleRef(view: DeviceView): { manufacturer: string; serialNumber: string } {
    if (view.manufacturer === undefined) throw new PickwireError('PW_ERR_INVALID_STATE', `${view.id} has not told its manufacturer yet (no connection, state or factsheet seen)`);
    return { manufacturer: view.manufacturer, serialNumber: view.serialNumber ?? view.id };
  }

  private journal(deviceId: string, type: string, actor: string | undefined, at: number, data: Record<string, unknown>): void {
    this.ctx.store.appendEvent({ type, aggregateType: 'device', aggregateId: deviceId, orderId: undefined, actor, at, data });
  }
}
