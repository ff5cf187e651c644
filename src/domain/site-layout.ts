/**
 * The site layout: everything the core and the simulators need to know about one warehouse.
 * Bundled layouts live in `simulators/sites/<name>.json`; the JSON format is documented in
 * `simulators/sites/README.md` and validated by `SiteLayoutSchema` when a layout is loaded.
 *
 * Units: metres, seconds, radians. Coordinates are a right-handed plane with one `mapId`.
 */
import Type, { type Static } from 'typebox';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });

export const ZONE_KINDS = ['amr', 'asrs', 'pack', 'charge'] as const;
export type ZoneKind = (typeof ZONE_KINDS)[number];

export const GraphNodeSchema = Type.Object({
  id: Id,
  x: Type.Number(),
  y: Type.Number(),
  /** Which zone the node lies in; storage nodes of the AMR zone carry `amr`. */
  zone: Type.Optional(Type.Union([Type.Literal('amr'), Type.Literal('asrs'), Type.Literal('pack'), Type.Literal('charge')])),
});

export const GraphEdgeSchema = Type.Object({
  id: Id,
  from: Id,
  to: Id,
  /** Travel is allowed both ways unless false. Length is the Euclidean distance of the ends. */
  bidirectional: Type.Optional(Type.Boolean()),
  /** Speed limit on the edge in m/s; vehicles use their own maximum when absent. */
  maxSpeed: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
});

export const StorageLocationSchema = Type.Object({
  id: Id,
  zone: Type.Union([Type.Literal('amr'), Type.Literal('asrs')]),
  /** AMR zone: the graph node where a robot stops to pick from this location. */
  nodeId: Type.Optional(Id),
  /** AS/RS zone: the AS/RS device that stores this location, and the bin kept there. */
  asrsId: Type.Optional(Id),
  binId: Type.Optional(Id),
  level: Type.Optional(Type.Integer({ minimum: 0 })),
  /** AS/RS zone: distance along the aisle from the port end, metres. */
  position: Type.Optional(Type.Number({ minimum: 0 })),
});

export const SkuSchema = Type.Object({
  sku: Id,
  name: Type.String({ maxLength: 200 }),
  unitPrice: Type.Optional(Type.Number({ minimum: 0 })),
});

export const StockSchema = Type.Object({
  sku: Id,
  location: Id,
  onHand: Type.Integer({ minimum: 0 }),
  safetyStock: Type.Optional(Type.Integer({ minimum: 0 })),
});

export const StationSchema = Type.Object({
  id: Id,
  kind: Type.Union([Type.Literal('pack'), Type.Literal('arm')]),
  /** Graph node where AMRs drop totes (pack station). */
  nodeId: Type.Optional(Id),
  /** Arm stations: the arm device serving the station and the conveyor that feeds it. */
  armId: Type.Optional(Id),
});

export const ChargerSchema = Type.Object({ id: Id, nodeId: Id });

export const AmrSchema = Type.Object({
  manufacturer: Id,
  serialNumber: Id,
  model: Type.Optional(Type.String()),
  startNode: Id,
  maxSpeed: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  acceleration: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
});

export const AsrsPortSchema = Type.Object({
  id: Id,
  /** The conveyor segment this port feeds. */
  conveyorId: Id,
});

export const AsrsSchema = Type.Object({
  id: Id,
  aisleLength: Type.Number({ exclusiveMinimum: 0 }),
  levels: Type.Integer({ minimum: 1 }),
  levelHeight: Type.Number({ exclusiveMinimum: 0 }),
  ports: Type.Array(AsrsPortSchema, { minItems: 1 }),
});

export const ConveyorSchema = Type.Object({
  id: Id,
  /** Closed loop or line; `stops` are the places totes can enter or leave, with their distance along the belt. */
  kind: Type.Union([Type.Literal('loop'), Type.Literal('line')]),
  length: Type.Number({ exclusiveMinimum: 0 }),
  speed: Type.Number({ exclusiveMinimum: 0 }),
  stops: Type.Array(Type.Object({ id: Id, at: Type.Number({ minimum: 0 }) }), { minItems: 2 }),
});

export const ArmSchema = Type.Object({
  id: Id,
  stationId: Id,
  /** Seconds per unit picked. */
  pickTime: Type.Number({ exclusiveMinimum: 0 }),
});

export const OrderFeedSchema = Type.Object({
  ordersPerMinute: Type.Number({ minimum: 0 }),
  maxLinesPerOrder: Type.Integer({ minimum: 1 }),
  maxUnitsPerLine: Type.Integer({ minimum: 1 }),
  seed: Type.Integer(),
});

export const SiteLayoutSchema = Type.Object({
  name: Id,
  description: Type.String(),
  site: Type.Object({
    id: Id,
    name: Type.String(),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    mapId: Id,
  }),
  graph: Type.Object({
    nodes: Type.Array(GraphNodeSchema, { minItems: 1 }),
    edges: Type.Array(GraphEdgeSchema),
  }),
  locations: Type.Array(StorageLocationSchema),
  skus: Type.Array(SkuSchema),
  stock: Type.Array(StockSchema),
  stations: Type.Array(StationSchema),
  chargers: Type.Array(ChargerSchema),
  devices: Type.Object({
    amrs: Type.Array(AmrSchema),
    asrs: Type.Array(AsrsSchema),
    conveyors: Type.Array(ConveyorSchema),
    arms: Type.Array(ArmSchema),
  }),
  orderFeed: Type.Optional(OrderFeedSchema),
});

export type SiteLayout = Static<typeof SiteLayoutSchema>;
export type GraphNode = Static<typeof GraphNodeSchema>;
export type GraphEdge = Static<typeof GraphEdgeSchema>;
export type StorageLocation = Static<typeof StorageLocationSchema>;
export type Station = Static<typeof StationSchema>;
export type AmrSpec = Static<typeof AmrSchema>;
export type AsrsSpec = Static<typeof AsrsSchema>;
export type ConveyorSpec = Static<typeof ConveyorSchema>;
export type ArmSpec = Static<typeof ArmSchema>;
export type OrderFeedSpec = Static<typeof OrderFeedSchema>;
