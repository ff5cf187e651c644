/** The API's resources as the dashboard reads them (see /docs of a running core). Extra fields are ignored. */

export type Role = 'viewer' | 'operator' | 'admin' | 'channel';

export interface Me {
  name: string;
  role: Role;
}

export interface Position {
  x: number;
  y: number;
  theta: number;
  mapId?: string;
}

export interface Device {
  id: string;
  class: 'amr' | 'asrs' | 'conveyor' | 'arm';
  state: string;
  connection?: string;
  manufacturer?: string | null;
  serialNumber?: string | null;
  battery: number | null;
  charging?: boolean;
  position: Position | null;
  lastNodeId?: string | null;
  driving?: boolean;
  task: string | null;
  errors?: string[];
  supportedActions?: string[];
  lastSeenAt?: string | null;
  /** Reserved nodes ahead of a vehicle, when the core sends them (traffic control). */
  reservedNodes?: string[];
  route?: { nodes?: string[]; releasedUpTo?: number } | null;
}

export interface GraphNode {
  id: string;
  x: number;
  y: number;
  zone?: string;
}

export interface Layout {
  name: string;
  site: { id: string; name: string; mapId: string };
  graph: { nodes: GraphNode[]; edges: { id: string; from: string; to: string; bidirectional?: boolean }[] };
  stations: { id: string; kind: 'pack' | 'arm'; nodeId?: string; armId?: string }[];
  chargers: { id: string; nodeId: string }[];
  devices: {
    amrs: { serialNumber: string; manufacturer: string; startNode: string }[];
    asrs: { id: string; aisleLength: number; levels: number; ports: { id: string; conveyorId: string }[] }[];
    conveyors: { id: string; kind: 'loop' | 'line'; length: number; speed: number; stops: { id: string; at: number }[] }[];
    arms: { id: string; stationId: string; pickTime: number }[];
  };
}

export interface Site {
  id: string;
  name: string;
  layout: Layout;
}

export interface Line {
  id: string;
  sku: string;
  quantity: number;
  picked?: number;
  state: string;
  site?: string | null;
  location?: string | null;
  zone?: string | null;
  attempts?: number;
  promiseDate?: string | null;
}

export interface Hold {
  id: string;
  orderId: string;
  type: string;
  status: string;
  reason: string;
  source: string;
  score: number | null;
  createdAt: string;
  resolvedBy: string | null;
  resolvedAt: string | null;
  note: string | null;
}

export interface Eta {
  pickedBy?: string | null;
  packedBy?: string | null;
  shipsAt?: string | null;
  deliversBy?: string | null;
  lines?: { id: string; pickedBy: string | null }[];
}

export interface Order {
  id: string;
  externalId: string | null;
  channel: string;
  customer: { id: string; email?: string };
  status: string;
  fulfilment: string;
  priority: number;
  promisedBy: string | null;
  createdAt: string;
  updatedAt: string;
  lines: Line[];
  holds: Hold[];
  eta: Eta | string | null;
}

export interface TimelineEvent {
  seq: number;
  at: string;
  type: string;
  aggregateType: string;
  aggregateId: string;
  actor: string | null;
  data: Record<string, unknown>;
}

export interface PwException {
  id: string;
  type: string;
  status: 'open' | 'handled' | 'resolved';
  orderId: string | null;
  lineId: string | null;
  taskId: string | null;
  deviceId: string | null;
  summary: string;
  detail: Record<string, unknown>;
  actions: { at: string; by: string; action: string }[];
  createdAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  note: string | null;
}

export interface Task {
  id: string;
  lineId: string;
  orderId: string;
  step: number;
  kind: string;
  deviceClass: string;
  deviceId: string | null | undefined;
  state: string;
  plan: { sku: string; quantity: number; portId?: string; stationId?: string; toteId?: string; deviceId?: string; pickNodeId?: string; dropNodeId?: string };
  createdAt: number;
  updatedAt: number;
}

export interface StockPosition {
  sku: string;
  site: string;
  location: string;
  zone?: string;
  onHand: number;
  reserved: number;
  safetyStock: number;
  atp: number;
}

export interface SiteAvailability {
  site: string;
  name: string;
  home: boolean;
  onHand: number;
  reserved: number;
  safetyStock: number;
  atp: number;
  maxFillable: number;
  canFill: boolean;
  promise: string;
  shipsAt: string | null;
  promiseDate: string | null;
  carrier: string | null;
}

export interface Availability {
  sku: string;
  quantity: number;
  sites: SiteAvailability[];
  earliest: { site: string; promiseDate: string; promise: string } | null;
}

export interface KpiBucket {
  at: string;
  ordersReceived: number;
  ordersCompleted: number;
  linesPicked: number;
  unitsPicked: number;
  dispatches: number;
  dispatchLatencyP50Ms: number | null;
  dispatchLatencyP95Ms: number | null;
  dispatchLatencyMaxMs: number | null;
}

export interface Kpis {
  at: string;
  window: { minutes: number; since: string };
  throughput: { ordersPerHour: number; ordersReceivedPerHour: number; linesPerHour: number; unitsPerHour: number };
  dispatchLatency: { count: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null };
  orders: { open: number; byState: Record<string, number>; late: number; atRisk: number; atRiskWithinMinutes: number };
  devices: { total: number; byState: Record<string, number>; byClass: Record<string, Record<string, number>> };
  exceptions: { open: number; byType: Record<string, number> };
  series: { bucketMs: number; buckets: KpiBucket[] };
}

export interface LiveEvent {
  type: string;
  at: number;
  data: Record<string, unknown>;
}

export type Frame = { type: 'snapshot'; at: number; data: { site?: { id: string; name: string }; devices?: Device[]; linesByState?: Record<string, number> } } | { type: 'delta'; at: number; events: LiveEvent[] };

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}
