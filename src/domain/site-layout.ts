/**
 * The site layout: everything the core and the simulators need to know about one warehouse.
 * Bundled layouts live in `simulators/sites/<name>.json`; the JSON format is documented in
 * `simulators/sites/README.md` and validated by `SiteLayoutSchema` when a layout is loaded.
 *
 * Units: metres, seconds, radians. Coordinates are a right-handed plane with one `mapId`.
 */
import Type, { type Static } from 'typebox';
import { VehicleProfileSchema } from './vehicle-profiles.js';

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
  /**
   * AMR zone: the location is a movable pod standing on `nodeId` (its home storage node). Robots
   * lift it, carry it to a station and bring it back (goods-to-person, RMFS); absent: a fixed shelf.
   */
  mobile: Type.Optional(Type.Boolean()),
  /** Slotting: the velocity class the location is reserved for (A = fastest movers, nearest the stations). */
  slotClass: Type.Optional(Type.Union([Type.Literal('A'), Type.Literal('B'), Type.Literal('C')])),
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
  /**
   * Pack stations: the graph nodes robots wait on before the station, in driving order (the
   * last one is next to `nodeId`). The queue's length caps how many robots wait without blocking aisles.
   */
  queueNodes: Type.Optional(Type.Array(Id)),
  /** Pack stations: seconds the operator needs per unit picked (reference default 10). */
  pickTime: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
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

const AxisSchema = Type.Object({ maxSpeed: Type.Number({ exclusiveMinimum: 0 }), accel: Type.Number({ exclusiveMinimum: 0 }) });

export const AsrsSchema = Type.Object({
  id: Id,
  aisleLength: Type.Number({ exclusiveMinimum: 0 }),
  levels: Type.Integer({ minimum: 1 }),
  levelHeight: Type.Number({ exclusiveMinimum: 0 }),
  ports: Type.Array(AsrsPortSchema, { minItems: 1 }),
  /** Crane kinematics; absent: shuttle 2 m/s at 1 m/s^2, lift 3 m/s at 3 m/s^2, 2 s per load or unload. */
  crane: Type.Optional(Type.Object({ travel: AxisSchema, lift: AxisSchema, handlingTime: Type.Number({ minimum: 0 }) })),
});

/**
 * A spur of a conveyor: a short belt between the main belt and one of its stops. A `divert`
 * takes totes off the main belt at `at` towards the stop; a `merge` feeds totes from the stop
 * onto the main belt at `at`, where it must wait for a free gap of `mergeGap` metres.
 */
export const ConveyorBranchSchema = Type.Object({
  id: Id,
  kind: Type.Union([Type.Literal('divert'), Type.Literal('merge')]),
  /** The stop at the far end of the spur (an AS/RS port or an arm station). */
  stop: Id,
  /** Metres along the main belt where the spur leaves or joins it. */
  at: Type.Number({ minimum: 0 }),
  length: Type.Number({ exclusiveMinimum: 0 }),
  /** m/s; absent: the main belt's speed. */
  speed: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  /** Totes that can accumulate on the spur; absent: length / pitch. */
  capacity: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Merge only: free belt length in metres a tote needs to enter the main belt; absent: the pitch. */
  mergeGap: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
});

export const ConveyorSchema = Type.Object({
  id: Id,
  /** Closed loop or line; `stops` are the places totes can enter or leave, with their distance along the belt. */
  kind: Type.Union([Type.Literal('loop'), Type.Literal('line')]),
  length: Type.Number({ exclusiveMinimum: 0 }),
  speed: Type.Number({ exclusiveMinimum: 0 }),
  stops: Type.Array(Type.Object({ id: Id, at: Type.Number({ minimum: 0 }) }), { minItems: 2 }),
  /** Belt length one tote occupies when totes accumulate (tote plus gap), metres; absent: 1. */
  pitch: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  /** Spurs to and from stops (diverts and merges); absent: stops sit on the main belt itself. */
  branches: Type.Optional(Type.Array(ConveyorBranchSchema)),
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

const Money = Type.Number({ minimum: 0 });

export const CarrierSchema = Type.Object({
  id: Id,
  mode: Type.Union([Type.Literal('road'), Type.Literal('rail'), Type.Literal('air'), Type.Literal('sea')]),
  /** Daily cut-off in the site's local time: parcels ready by then leave that day. */
  cutoff: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
  costPerShipment: Money,
  costPerKm: Money,
  /** Transit days = max(minTransitDays, ceil(km / kmPerDay)). */
  kmPerDay: Type.Number({ exclusiveMinimum: 0 }),
  minTransitDays: Type.Integer({ minimum: 0 }),
});

/**
 * A site of the fulfilment network as sourcing sees it. The layout's own site is the one this
 * core drives; the others are filled by their own cores or partners and are only sourced to.
 */
export const NetworkSiteSchema = Type.Object({
  id: Id,
  name: Type.String({ maxLength: 200 }),
  /** Required for other sites; the layout's own site defaults to `site.lat` / `site.lon`. */
  lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  /** Local time = UTC + this many minutes; carrier cut-offs are local. */
  utcOffsetMinutes: Type.Optional(Type.Integer({ minimum: -720, maximum: 840 })),
  handlingCostPerUnit: Money,
  /** Units shipped per hour: the backlog ahead of an order delays the day it leaves. */
  capacityPerHour: Type.Number({ exclusiveMinimum: 0 }),
  /** Supplier lead time in days: when short stock is back, for backorder promise dates. */
  replenishmentDays: Type.Number({ minimum: 0 }),
  /** Grams of CO2 per shipment-km, by carrier mode. */
  co2GramsPerKm: Type.Record(Type.String(), Type.Number({ minimum: 0 })),
  carriers: Type.Array(CarrierSchema, { minItems: 1 }),
  /** ISO 3166 alpha-2 countries the site ships to; absent: every country. */
  countries: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }))),
  /** Other sites only: their stock as this core knows it (one position per SKU). */
  stock: Type.Optional(Type.Array(Type.Object({ sku: Id, onHand: Type.Integer({ minimum: 0 }), safetyStock: Type.Optional(Type.Integer({ minimum: 0 })) }))),
});

/** Where a postal code lies when an order's ship-to has no coordinates (longest prefix wins). */
export const PostalRegionSchema = Type.Object({
  country: Type.String({ pattern: '^[A-Z]{2}$' }),
  prefix: Type.String({ maxLength: 10 }),
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  lon: Type.Number({ minimum: -180, maximum: 180 }),
});

export const NetworkSchema = Type.Object({
  sites: Type.Array(NetworkSiteSchema, { minItems: 1 }),
  regions: Type.Optional(Type.Array(PostalRegionSchema)),
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
  /** The fulfilment network for sourcing; absent: this site alone, with default costs and carrier. */
  network: Type.Optional(NetworkSchema),
  /** What each vendor's vehicles expect (see src/domain/vehicle-profiles.ts); absent: VDA 5050 standard pick and drop. */
  vehicleProfiles: Type.Optional(Type.Array(VehicleProfileSchema)),
});

export type SiteLayout = Static<typeof SiteLayoutSchema>;
export type GraphNode = Static<typeof GraphNodeSchema>;
export type GraphEdge = Static<typeof GraphEdgeSchema>;
export type StorageLocation = Static<typeof StorageLocationSchema>;
export type Station = Static<typeof StationSchema>;
export type AmrSpec = Static<typeof AmrSchema>;
export type AsrsSpec = Static<typeof AsrsSchema>;
export type ConveyorSpec = Static<typeof ConveyorSchema>;
export type ConveyorBranch = Static<typeof ConveyorBranchSchema>;
export type ArmSpec = Static<typeof ArmSchema>;
export type OrderFeedSpec = Static<typeof OrderFeedSchema>;
export type NetworkSpec = Static<typeof NetworkSchema>;
export type NetworkSiteSpec = Static<typeof NetworkSiteSchema>;
export type PostalRegion = Static<typeof PostalRegionSchema>;
