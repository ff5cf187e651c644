/**
 * The durable records of the core: what the store keeps as current state. Pure data; the
 * machines and planners compute them, the store persists them.
 */
import type { LineContext, LineState } from './line-machine.js';
import type { OrderContext, OrderStatus } from './order-machine.js';

/** A machine snapshot as persisted: ~0.3 KB instead of a live actor's ~4 KB. */
export interface PersistedMachine<TContext = Record<string, unknown>> {
  value: string;
  context: TContext;
}

export interface ShipTo {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  country: string;
  lat?: number;
  lon?: number;
}

export interface OrderInput {
  channel: string;
  externalId?: string;
  customer: { id: string; email?: string };
  shipTo: ShipTo;
  lines: { sku: string; quantity: number }[];
  priority?: number;
  promisedBy?: string;
}

export interface OrderRecord {
  id: string;
  externalId: string | undefined;
  channel: string;
  customerId: string;
  status: OrderStatus;
  /** Derived from the lines (DESIGN §3): the furthest state every open line has reached. */
  fulfilment: string;
  snapshot: PersistedMachine<OrderContext>;
  body: OrderInput;
  priority: number;
  promisedBy: number | undefined;
  createdAt: number;
  updatedAt: number;
}

export interface LineRecord {
  id: string;
  orderId: string;
  lineNo: number;
  sku: string;
  quantity: number;
  state: LineState;
  site: string | undefined;
  location: string | undefined;
  zone: 'amr' | 'asrs' | undefined;
  snapshot: PersistedMachine<LineContext>;
  updatedAt: number;
}

/** Other sites of the network keep one position per SKU at this location: this core does not know their floors. */
export const REMOTE_LOCATION = 'STOCK';

export interface StockPosition {
  site: string;
  location: string;
  sku: string;
  /** `remote`: a position at another site of the network, sourced to but not driven by this core. */
  zone: 'amr' | 'asrs' | 'remote';
  onHand: number;
  reserved: number;
  safetyStock: number;
}

export const TASK_STATES = ['CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED', 'FINISHED', 'FAILED', 'CANCELED'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const TASK_KINDS = [
  'amr.pickTrip',
  'asrs.retrieve',
  'conveyor.toStation',
  'arm.pick',
  'conveyor.toPort',
  'asrs.store',
] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export type DeviceClass = 'amr' | 'asrs' | 'conveyor' | 'arm';

/** What a task must do, fixed when the line is released. Device choice may come later. */
export interface TaskPlan {
  sku: string;
  quantity: number;
  location: string;
  /** AMR trips: where to pick and where to drop. */
  pickNodeId?: string;
  dropNodeId?: string;
  /** AS/RS and conveyor steps. */
  binId?: string;
  portId?: string;
  stationId?: string;
  toteId?: string;
  /** The device the plan binds to, for fixed-route equipment (AS/RS, conveyor, arm). */
  deviceId?: string;
  /** Vehicles an operator took this trip away from: the dispatcher gives it to another. */
  avoidDevices?: string[];
}

/** What the core has learned from the device about this task; idempotent under replays. */
export interface TaskProgress {
  /** Protocol command ids: VDA orderId/orderUpdateId or wcs jobId/jobUpdateId. */
  commandId?: string;
  updateId?: number;
  acknowledged?: boolean;
  /** Action ids already applied to inventory and lines (so a re-sent state is harmless). */
  applied: string[];
  failure?: string;
  /** Units a picking step found missing (it picked fewer than planned). */
  shortBy?: number;
  /**
   * AMR trips: the actions the vehicle's profile asked for, rendered at dispatch, so that order
   * updates and re-sends carry the same ones. On a batched trip, the lead task's trip lists
   * every line's pick; the other tasks point to the lead with `tripOf`.
   */
  trip?: TripPlan;
  tripOf?: string;
}

/** A VDA node action as the vehicle's profile wants it (type and parameters). */
export interface TripAction {
  actionType: string;
  parameters: { key: string; value: string | number }[];
}

/** One vehicle trip: picks in visiting order (one per task), then one drop of the tote. */
export interface TripPlan {
  picks: { taskId: string; nodeId: string; action: TripAction }[];
  drop: TripAction;
}

export interface TaskRecord {
  id: string;
  lineId: string;
  orderId: string;
  step: number;
  kind: TaskKind;
  deviceClass: DeviceClass;
  deviceId: string | undefined;
  state: TaskState;
  loadId: string | undefined;
  plan: TaskPlan;
  progress: TaskProgress;
  attempts: number;
  createdAt: number;
  updatedAt: number;
}

export interface JournalEntry {
  seq: number;
  at: number;
  type: string;
  aggregateType: 'order' | 'line' | 'task' | 'stock' | 'device' | 'shipment';
  aggregateId: string;
  orderId: string | undefined;
  actor: string | undefined;
  data: Record<string, unknown>;
}

export interface OutboxMessage {
  seq: number;
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  retain: boolean;
  expirySeconds: number | undefined;
  /** Set when a device must echo the command; the row stays unconfirmed until it does. */
  correlation: string | undefined;
  createdAt: number;
  sentAt: number | undefined;
  attempts: number;
  confirmedAt: number | undefined;
}

export const HOLD_TYPES = ['fraud', 'payment', 'address', 'inventory', 'manual'] as const;
export type HoldType = (typeof HOLD_TYPES)[number];
export const HOLD_STATUSES = ['open', 'released', 'rejected'] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

/** A hold on an order (DESIGN §3): a record, not a state. An open hold blocks release to the floor. */
export interface HoldRecord {
  id: string;
  orderId: string;
  type: HoldType;
  status: HoldStatus;
  reason: string;
  /** What placed it: `risk` for the intake's risk score, a user name for a manual hold. */
  source: string;
  score: number | undefined;
  createdAt: number;
  resolvedAt: number | undefined;
  resolvedBy: string | undefined;
  note: string | undefined;
}

export const EXCEPTION_TYPES = ['short-pick', 'unroutable', 'task-failed', 'attempts-exhausted', 'device-unreachable', 'task-timeout', 'mispick', 'low-battery', 'conveyor-jam'] as const;
export type ExceptionType = (typeof EXCEPTION_TYPES)[number];
/**
 * `handled`: the automatic workflow dealt with it (kept for the record); `open`: an operator must
 * act; `resolved`: an operator closed it, with a note.
 */
export const EXCEPTION_STATUSES = ['open', 'handled', 'resolved'] as const;
export type ExceptionStatus = (typeof EXCEPTION_STATUSES)[number];

/** One step of an exception's story: what the core or an operator did about it. */
export interface ExceptionAction {
  at: number;
  by: string;
  action: string;
}

/** Something that went wrong on the floor or in sourcing: what happened and what was done. */
export interface ExceptionRecord {
  id: string;
  type: ExceptionType;
  status: ExceptionStatus;
  orderId: string | undefined;
  lineId: string | undefined;
  taskId: string | undefined;
  deviceId: string | undefined;
  /** One sentence for the queue. */
  summary: string;
  /** The facts, for the detail view. */
  detail: Record<string, unknown>;
  actions: ExceptionAction[];
  createdAt: number;
  updatedAt: number;
  resolvedAt: number | undefined;
  resolvedBy: string | undefined;
  note: string | undefined;
}
