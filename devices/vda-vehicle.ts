/**
 * Vehicle side of VDA 5050 2.0: presence with last will, factsheet, order acceptance (§6.6),
 * instant actions and the state report. A vehicle controller (or the simulated AMR) reports
 * progress through the small API below and decides when to publish; the helper keeps the
 * state consistent with the protocol (node/edge states, action states, header ids).
 */
import {
  VDA_VERSION,
  decodeVda,
  encodeVda,
  vdaTopic,
  type VdaAction,
  type VdaActionState,
  type VdaActionStatus,
  type VdaAgvPosition,
  type VdaEdge,
  type VdaError,
  type VdaFactsheet,
  type VdaInstantActions,
  type VdaLoad,
  type VdaNode,
  type VdaOrder,
  type VdaState,
  type VdaTopicName,
  type VdaVelocity,
} from '../protocols/index.js';
import { CLOSE_ANNOUNCE_MS, linkFrom, withinMs, type DeviceLink, type LastWill, type PublishOptions } from './link.js';
import { cloneJson } from './json-clone.js';
import { judgeOrder } from './vda-order-rules.js';

/** The fields of a VDA state that are strings, numbers or booleans: safe to hand out uncopied. */
type ScalarStateField = { [K in keyof VdaState]-?: VdaState[K] extends string | number | boolean | undefined ? K : never }[keyof VdaState];

export type VdaFactsheetBody = Omit<VdaFactsheet, 'headerId' | 'timestamp' | 'version' | 'manufacturer' | 'serialNumber'>;

export interface VdaVehicleOptions {
  /** A ready link (in-memory, or one built with `VdaVehicle.lastWill`); otherwise `url` is dialled. */
  link?: DeviceLink;
  url?: string;
  interfaceName: string;
  manufacturer: string;
  serialNumber: string;
  factsheet: VdaFactsheetBody;
  initial: { lastNodeId: string; agvPosition: VdaAgvPosition; batteryCharge: number };
  now?: () => number;
  username?: string;
  password?: string;
}

export interface VdaVehicleStats {
  ordersAccepted: number;
  ordersRejected: number;
  duplicateOrders: number;
  badMessages: number;
  publishFailures: number;
}

const ORDER_REJECTIONS = new Set(['validationError', 'orderUpdateError', 'orderError', 'noRouteError', 'noOrderToCancel']);
const isTerminal = (s: VdaActionStatus): boolean => s === 'FINISHED' || s === 'FAILED';

export class VdaVehicle {
  readonly manufacturer: string;
  readonly serialNumber: string;
  readonly stats: VdaVehicleStats = { ordersAccepted: 0, ordersRejected: 0, duplicateOrders: 0, badMessages: 0, publishFailures: 0 };
  private readonly opts: VdaVehicleOptions;
  private readonly now: () => number;
  private readonly headerIds = new Map<VdaTopicName, number>();
  private readonly current: VdaState;
  /** The rest of the path, with actions: nodes and edges not yet passed. */
  private nodes: VdaNode[] = [];
  private edges: VdaEdge[] = [];
  private lastBase: { nodeId: string; sequenceId: number } | undefined;
  /** Action ids that belong to the current order (as opposed to instant actions). */
  private orderActionIds = new Set<string>();
  private readonly actionIndex = new Map<string, VdaAction>();
  private readonly orderHandlers: ((order: VdaOrder, isUpdate: boolean) => void)[] = [];
  private readonly instantHandlers: ((action: VdaAction) => void)[] = [];
  private pendingCancel: string | undefined;
  private link: DeviceLink | undefined;
  private closed = false;

  private constructor(opts: VdaVehicleOptions) {
    this.opts = opts;
    this.manufacturer = opts.manufacturer;
    this.serialNumber = opts.serialNumber;
    this.now = opts.now ?? Date.now;
    this.current = {
      headerId: 0,
      timestamp: new Date(this.now()).toISOString(),
      version: VDA_VERSION,
      manufacturer: opts.manufacturer,
      serialNumber: opts.serialNumber,
      orderId: '',
      orderUpdateId: 0,
      lastNodeId: opts.initial.lastNodeId,
      lastNodeSequenceId: 0,
      driving: false,
      paused: false,
      newBaseRequest: false,
      distanceSinceLastNode: 0,
      operatingMode: 'AUTOMATIC',
      nodeStates: [],
      edgeStates: [],
      agvPosition: { ...opts.initial.agvPosition },
      velocity: { vx: 0, vy: 0, omega: 0 },
      loads: [],
      actionStates: [],
      batteryState: { batteryCharge: opts.initial.batteryCharge, charging: false },
      errors: [],
      information: [],
      safetyState: { eStop: 'NONE', fieldViolation: false },
    };
  }

  /** The last will a link for this vehicle must carry (CONNECTIONBROKEN, retained, QoS 1). */
  static lastWill(opts: Pick<VdaVehicleOptions, 'interfaceName' | 'manufacturer' | 'serialNumber' | 'now'>): LastWill {
    return {
      topic: vdaTopic(opts, 'connection'),
      payload: encodeVda('connection', {
        headerId: 0,
        timestamp: new Date((opts.now ?? Date.now)()).toISOString(),
        version: VDA_VERSION,
        manufacturer: opts.manufacturer,
        serialNumber: opts.serialNumber,
        connectionState: 'CONNECTIONBROKEN',
      }),
      qos: 1,
      retain: true,
    };
  }

  static async connect(opts: VdaVehicleOptions): Promise<VdaVehicle> {
    const vehicle = new VdaVehicle(opts);
    const link = await linkFrom(opts, `${opts.interfaceName}-${opts.manufacturer}-${opts.serialNumber}`, VdaVehicle.lastWill(opts));
    await vehicle.attach(link);
    return vehicle;
  }

  /** A snapshot of the current state (a copy; changes go through the methods below). */
  get state(): Readonly<VdaState> {
    return cloneJson(this.current);
  }

  /**
   * One plain field of the current state, without copying the rest: `state` copies every node
   * and action state, which a simulated fleet asking for `lastNodeId` on every move paid ~1% of
   * a fast run for.
   */
  stateField<K extends ScalarStateField>(key: K): VdaState[K] {
    return this.current[key];
  }

  /** Nodes still to be reached, in order, with their actions (base first, then horizon). */
  get remainingNodes(): readonly VdaNode[] {
    return this.nodes;
  }

  /** Edges still to be travelled, in order. */
  get remainingEdges(): readonly VdaEdge[] {
    return this.edges;
  }

  /** True while released nodes remain or order actions are unfinished. */
  get orderActive(): boolean {
    return this.nodes.some((n) => n.released) || this.current.actionStates.some((a) => this.orderActionIds.has(a.actionId) && !isTerminal(a.actionStatus));
  }

  /** The action (order or instant) with this id, if known. */
  action(actionId: string): VdaAction | undefined {
    return this.actionIndex.get(actionId);
  }

  actionStatus(actionId: string): VdaActionStatus | undefined {
    return this.current.actionStates.find((a) => a.actionId === actionId)?.actionStatus;
  }

  /** Accepted orders and updates only; the state echo has already been published. */
  onOrder(handler: (order: VdaOrder, isUpdate: boolean) => void): void {
    this.orderHandlers.push(handler);
  }

  /**
   * Instant actions other than stateRequest/factsheetRequest. For cancelOrder the handler stops
   * the vehicle and then calls `finishCancel()`; without a handler the cancel completes at once.
   */
  onInstantAction(handler: (action: VdaAction) => void): void {
    this.instantHandlers.push(handler);
  }

  /** Pops node and edge states up to and including `sequenceId` and records the node as last. */
  reachedNode(nodeId: string, sequenceId: number): void {
    this.nodes = this.nodes.filter((n) => n.sequenceId > sequenceId);
    this.edges = this.edges.filter((e) => e.sequenceId > sequenceId);
    this.current.lastNodeId = nodeId;
    this.current.lastNodeSequenceId = sequenceId;
    this.current.distanceSinceLastNode = 0;
    this.syncPathStates();
  }

  setActionStatus(actionId: string, status: VdaActionStatus, resultDescription?: string): void {
    const s = this.current.actionStates.find((a) => a.actionId === actionId);
    if (s === undefined) throw new RangeError(`unknown action ${actionId}`);
    s.actionStatus = status;
    if (resultDescription === undefined) delete s.resultDescription;
    else s.resultDescription = resultDescription;
  }

  setPosition(agvPosition: VdaAgvPosition, velocity?: VdaVelocity, distanceSinceLastNode?: number): void {
    this.current.agvPosition = { ...agvPosition };
    if (velocity !== undefined) this.current.velocity = { ...velocity };
    if (distanceSinceLastNode !== undefined) this.current.distanceSinceLastNode = distanceSinceLastNode;
  }

  setDriving(driving: boolean): void {
    this.current.driving = driving;
    if (!driving) this.current.velocity = { vx: 0, vy: 0, omega: 0 };
  }

  setBattery(batteryCharge: number, charging: boolean): void {
    this.current.batteryState = { ...this.current.batteryState, batteryCharge, charging };
  }

  setPaused(paused: boolean): void {
    this.current.paused = paused;
  }

  setNewBaseRequest(request: boolean): void {
    this.current.newBaseRequest = request;
  }

  setLoads(loads: VdaLoad[]): void {
    this.current.loads = loads.map((l) => ({ ...l }));
  }

  addError(error: VdaError): void {
    this.current.errors.push(error);
  }

  /** Clears all errors, or those of one type. */
  clearErrors(errorType?: string): void {
    this.current.errors = errorType === undefined ? [] : this.current.errors.filter((e) => e.errorType !== errorType);
  }

  /**
   * Completes a cancelOrder: unfinished order actions FAILED, the rest of the path dropped
   * (orderId stays, as the standard asks), the cancel action FINISHED; publishes state.
   */
  async finishCancel(): Promise<void> {
    for (const a of this.current.actionStates) {
      if (this.orderActionIds.has(a.actionId) && !isTerminal(a.actionStatus)) {
        a.actionStatus = 'FAILED';
        a.resultDescription = 'order canceled';
      }
    }
    this.nodes = [];
    this.edges = [];
    this.syncPathStates();
    if (this.pendingCancel !== undefined) this.setActionStatus(this.pendingCancel, 'FINISHED');
    this.pendingCancel = undefined;
    await this.publishState();
  }

  async publishState(): Promise<void> {
    const s = this.current;
    s.headerId = this.nextHeaderId('state');
    s.timestamp = new Date(this.now()).toISOString();
    await this.send('state', encodeVda('state', s), { qos: 1 });
  }

  async publishVisualization(): Promise<void> {
    const s = this.current;
    const msg = { ...this.header('visualization'), agvPosition: s.agvPosition, velocity: s.velocity };
    await this.send('visualization', encodeVda('visualization', msg), { qos: 0 });
  }

  async publishFactsheet(): Promise<void> {
    await this.send('factsheet', encodeVda('factsheet', { ...this.header('factsheet'), ...this.opts.factsheet }), { qos: 1, retain: true });
  }

  /** Graceful close announces OFFLINE; a non-graceful one leaves the broker to send the will. */
  async close(graceful = true): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const link = this.link;
    if (link === undefined) return;
    // OFFLINE only when it can be delivered, and not at any price: the broker may be gone.
    if (graceful && link.connected) await withinMs(this.publishConnection('OFFLINE'), CLOSE_ANNOUNCE_MS);
    await link.close(!graceful);
  }

  private async attach(link: DeviceLink): Promise<void> {
    this.link = link;
    link.onMessage((topic, payload) => this.dispatch(topic, payload));
    link.onConnect(() => {
      // The broker may have published our will meanwhile; announce again and report state.
      void this.announce().catch(() => undefined);
    });
    await link.subscribe([this.topic('order'), this.topic('instantActions')], 1);
    await this.announce();
  }

  private async announce(): Promise<void> {
    await this.publishConnection('ONLINE');
    await this.publishFactsheet();
    await this.publishState();
  }

  private async publishConnection(connectionState: 'ONLINE' | 'OFFLINE'): Promise<void> {
    await this.send('connection', encodeVda('connection', { ...this.header('connection'), connectionState }), { qos: 1, retain: true });
  }

  private dispatch(topic: string, payload: Buffer): void {
    if (this.closed) return;
    if (topic === this.topic('order')) this.handleOrder(payload);
    else if (topic === this.topic('instantActions')) this.handleInstantActions(payload);
  }

  private handleOrder(payload: Buffer): void {
    let order: VdaOrder;
    try {
      order = decodeVda('order', payload);
    } catch (err) {
      this.stats.badMessages++;
      this.reject('validationError', err instanceof Error ? err.message : String(err), referencesOf(payload));
      return;
    }
    const verdict = judgeOrder(order, {
      manufacturer: this.manufacturer,
      serialNumber: this.serialNumber,
      orderId: this.current.orderId,
      orderUpdateId: this.current.orderUpdateId,
      lastBaseNode: this.lastBase,
      active: this.orderActive,
      lastNodeId: this.current.lastNodeId,
      position: this.current.agvPosition,
    });
    if (verdict.kind === 'duplicate') {
      // The core resends until it sees the echo; the state is that echo.
      this.stats.duplicateOrders++;
      this.fireAndForget(this.publishState());
      return;
    }
    if (verdict.kind === 'reject') {
      this.reject(verdict.errorType, verdict.description, { orderId: order.orderId, orderUpdateId: order.orderUpdateId });
      return;
    }
    if (verdict.isUpdate) this.applyUpdate(order);
    else this.applyNewOrder(order);
    this.current.orderId = order.orderId;
    this.current.orderUpdateId = order.orderUpdateId;
    this.current.newBaseRequest = false;
    this.current.errors = this.current.errors.filter((e) => !ORDER_REJECTIONS.has(e.errorType));
    const lastReleased = [...order.nodes].reverse().find((n) => n.released);
    if (lastReleased !== undefined) this.lastBase = { nodeId: lastReleased.nodeId, sequenceId: lastReleased.sequenceId };
    this.syncPathStates();
    this.stats.ordersAccepted++;
    this.fireAndForget(this.publishState());
    for (const h of this.orderHandlers) h(order, verdict.isUpdate);
  }

  private applyNewOrder(order: VdaOrder): void {
    // Running instant actions survive a new order; everything of the old order is dropped.
    this.current.actionStates = this.current.actionStates.filter((a) => !this.orderActionIds.has(a.actionId) && !isTerminal(a.actionStatus));
    this.orderActionIds = new Set();
    this.nodes = order.nodes.map((n) => cloneJson(n));
    this.edges = order.edges.map((e) => cloneJson(e));
    this.addOrderActions(order.nodes, order.edges);
    // A new order restarts sequence numbering.
    this.current.lastNodeSequenceId = 0;
  }

  private applyUpdate(order: VdaOrder): void {
    const [stitch, ...rest] = order.nodes;
    if (stitch === undefined) return;
    // Looked up before the path is cut back: the stitching node itself goes with the cut.
    const old = this.nodesBySeq(stitch.sequenceId);
    // The old horizon is replaced by the update; the base already released stays as it was.
    this.nodes = this.nodes.filter((n) => n.released && n.sequenceId < stitch.sequenceId);
    this.edges = this.edges.filter((e) => e.released && e.sequenceId < stitch.sequenceId);
    const stitchPending = this.current.lastNodeSequenceId < stitch.sequenceId;
    const stitchNode = cloneJson(stitch);
    stitchNode.actions = stitch.actions.filter((a) => !this.actionIndex.has(a.actionId));
    if (stitchPending) {
      // Keep the stitching node's existing actions and add any new ones from the update.
      stitchNode.actions = [...(old?.actions ?? []), ...stitchNode.actions];
      this.nodes = this.nodes.filter((n) => n.sequenceId !== stitch.sequenceId);
      this.nodes.push(stitchNode);
    }
    this.nodes.push(...rest.map((n) => cloneJson(n)));
    this.edges.push(...order.edges.map((e) => cloneJson(e)));
    this.addOrderActions([{ ...stitch, actions: stitch.actions.filter((a) => !this.actionIndex.has(a.actionId)) }, ...rest], order.edges);
  }

  private nodesBySeq(sequenceId: number): VdaNode | undefined {
    return this.nodes.find((n) => n.sequenceId === sequenceId);
  }

  private addOrderActions(nodes: readonly VdaNode[], edges: readonly VdaEdge[]): void {
    for (const a of [...nodes.flatMap((n) => n.actions), ...edges.flatMap((e) => e.actions)]) {
      if (this.orderActionIds.has(a.actionId)) continue;
      this.orderActionIds.add(a.actionId);
      this.actionIndex.set(a.actionId, a);
      this.current.actionStates.push(waiting(a));
    }
    this.pruneActionIndex();
  }

  private handleInstantActions(payload: Buffer): void {
    let msg: VdaInstantActions;
    try {
      msg = decodeVda('instantActions', payload);
    } catch {
      this.stats.badMessages++;
      return;
    }
    let stateDue = false;
    for (const a of msg.actions) {
      if (a.actionType === 'stateRequest') {
        stateDue = true;
        continue;
      }
      if (a.actionType === 'factsheetRequest') {
        this.fireAndForget(this.publishFactsheet());
        continue;
      }
      // A resent instant action (same id) is already being handled.
      if (this.current.actionStates.some((s) => s.actionId === a.actionId)) continue;
      this.actionIndex.set(a.actionId, a);
      this.current.actionStates.push(waiting(a));
      stateDue = true;
      if (a.actionType === 'cancelOrder') {
        if (!this.orderActive) {
          this.setActionStatus(a.actionId, 'FAILED', 'no order to cancel');
          this.addError({ errorType: 'noOrderToCancel', errorLevel: 'WARNING', errorReferences: [{ referenceKey: 'actionId', referenceValue: a.actionId }] });
          continue;
        }
        this.pendingCancel = a.actionId;
        this.setActionStatus(a.actionId, 'RUNNING');
        if (this.instantHandlers.length === 0) {
          this.fireAndForget(this.finishCancel());
          stateDue = false;
          continue;
        }
      }
      for (const h of this.instantHandlers) h(a);
    }
    if (stateDue) this.fireAndForget(this.publishState());
  }

  private reject(errorType: string, description: string, refs: { orderId?: string; orderUpdateId?: number }): void {
    this.stats.ordersRejected++;
    const errorReferences = [];
    if (refs.orderId !== undefined) errorReferences.push({ referenceKey: 'orderId', referenceValue: refs.orderId });
    if (refs.orderUpdateId !== undefined) errorReferences.push({ referenceKey: 'orderUpdateId', referenceValue: String(refs.orderUpdateId) });
    // One rejection of each kind is enough to explain the latest refusal.
    this.current.errors = this.current.errors.filter((e) => e.errorType !== errorType);
    this.current.errors.push({ errorType, errorLevel: 'WARNING', errorDescription: description.slice(0, 500), errorReferences });
    this.fireAndForget(this.publishState());
  }

  /**
   * Node states leave out `nodePosition`: VDA 5050 makes it optional because master control
   * already has it (it sent the order), and on a long path it is most of the state's bytes —
   * every state a vehicle publishes repeats the whole remaining path.
   */
  private syncPathStates(): void {
    this.current.nodeStates = this.nodes.map((n) => {
      const s: VdaState['nodeStates'][number] = { nodeId: n.nodeId, sequenceId: n.sequenceId, released: n.released };
      if (n.nodeDescription !== undefined) s.nodeDescription = n.nodeDescription;
      return s;
    });
    this.current.edgeStates = this.edges.map((e) => {
      const s: VdaState['edgeStates'][number] = { edgeId: e.edgeId, sequenceId: e.sequenceId, released: e.released };
      if (e.edgeDescription !== undefined) s.edgeDescription = e.edgeDescription;
      return s;
    });
  }

  /** Keeps the action index from growing without bound over a long run. */
  private pruneActionIndex(): void {
    if (this.actionIndex.size < 2000) return;
    const live = new Set(this.current.actionStates.map((a) => a.actionId));
    for (const id of this.actionIndex.keys()) if (!live.has(id)) this.actionIndex.delete(id);
  }

  private header(topic: VdaTopicName): { headerId: number; timestamp: string; version: string; manufacturer: string; serialNumber: string } {
    return { headerId: this.nextHeaderId(topic), timestamp: new Date(this.now()).toISOString(), version: VDA_VERSION, manufacturer: this.manufacturer, serialNumber: this.serialNumber };
  }

  private nextHeaderId(topic: VdaTopicName): number {
    const id = (this.headerIds.get(topic) ?? 0) + 1;
    this.headerIds.set(topic, id);
    return id;
  }

  private topic(name: VdaTopicName): string {
    return vdaTopic({ interfaceName: this.opts.interfaceName, manufacturer: this.manufacturer, serialNumber: this.serialNumber }, name);
  }

  private async send(name: VdaTopicName, payload: string, opts: PublishOptions): Promise<void> {
    if (this.link === undefined) throw new Error('not connected');
    try {
      await this.link.publish(this.topic(name), payload, opts);
    } catch (err) {
      this.stats.publishFailures++;
      throw err;
    }
  }

  private fireAndForget(p: Promise<unknown>): void {
    // Failures are counted in stats.publishFailures; state is re-sent on the next event anyway.
    p.catch(() => undefined);
  }
}

function waiting(a: VdaAction): VdaActionState {
  const s: VdaActionState = { actionId: a.actionId, actionType: a.actionType, actionStatus: 'WAITING' };
  if (a.actionDescription !== undefined) s.actionDescription = a.actionDescription;
  return s;
}

/** Best effort: the ids of an order that failed validation, so the rejection can name it. */
function referencesOf(payload: Buffer): { orderId?: string; orderUpdateId?: number } {
  try {
    const raw: unknown = JSON.parse(payload.toString('utf8'));
    if (raw === null || typeof raw !== 'object') return {};
    const { orderId, orderUpdateId } = raw as Record<string, unknown>;
    const refs: { orderId?: string; orderUpdateId?: number } = {};
    if (typeof orderId === 'string') refs.orderId = orderId;
    if (typeof orderUpdateId === 'number') refs.orderUpdateId = orderUpdateId;
    return refs;
  } catch {
    return {};
  }
}
