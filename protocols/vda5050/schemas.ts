/**
 * VDA 5050 2.0 message schemas (AMRs, JSON over MQTT), written in TypeBox after the official
 * JSON schemas. Objects allow additional properties because vendors add their own fields; the
 * fields we know are checked for type, presence and enum membership. Field comments only note
 * what the core relies on; the VDA 5050 specification is the reference for the rest.
 */
import Type, { type Static, type TSchema } from 'typebox';

export const VDA_VERSION = '2.0.0';

const PI = 3.14159265359; // the bound the official schemas use, slightly above Math.PI

// ---------------------------------------------------------------------------------------------
// Shared parts

const headerFields = {
  /** Per topic and sender, incremented by 1 with each message sent. */
  headerId: Type.Integer({ minimum: 0 }),
  /** ISO 8601, e.g. "2025-03-11T11:40:03.12Z". */
  timestamp: Type.String({ format: 'date-time' }),
  /** Protocol version [major].[minor].[patch]. */
  version: Type.String(),
  manufacturer: Type.String(),
  serialNumber: Type.String(),
};

export const VdaBlockingTypeSchema = Type.Enum(['NONE', 'SOFT', 'HARD']);

export const VdaActionParameterSchema = Type.Object({
  key: Type.String(),
  // Official: array | boolean | number | string | object.
  value: Type.Union([
    Type.String(),
    Type.Number(),
    Type.Boolean(),
    Type.Array(Type.Unknown()),
    Type.Record(Type.String(), Type.Unknown()),
  ]),
});

export const VdaActionSchema = Type.Object({
  actionType: Type.String(),
  actionId: Type.String(),
  actionDescription: Type.Optional(Type.String()),
  blockingType: VdaBlockingTypeSchema,
  actionParameters: Type.Optional(Type.Array(VdaActionParameterSchema)),
});

export const VdaNodePositionSchema = Type.Object({
  x: Type.Number(),
  y: Type.Number(),
  theta: Type.Optional(Type.Number({ minimum: -PI, maximum: PI })),
  allowedDeviationXY: Type.Optional(Type.Number({ minimum: 0 })),
  allowedDeviationTheta: Type.Optional(Type.Number({ minimum: 0, maximum: 3.141592654 })),
  mapId: Type.String(),
  mapDescription: Type.Optional(Type.String()),
});

const ControlPointSchema = Type.Object({
  x: Type.Number(),
  y: Type.Number(),
  weight: Type.Optional(Type.Number({ minimum: 0 })),
});

/** NURBS; in an order the degree is required, in a state echo it may be left out. */
export const VdaTrajectorySchema = Type.Object({
  degree: Type.Integer({ minimum: 1 }),
  knotVector: Type.Array(Type.Number({ minimum: 0, maximum: 1 })),
  controlPoints: Type.Array(ControlPointSchema),
});

const StateTrajectorySchema = Type.Object({
  degree: Type.Optional(Type.Number({ minimum: 1 })),
  knotVector: Type.Array(Type.Number({ minimum: 0, maximum: 1 })),
  controlPoints: Type.Array(ControlPointSchema),
});

export const VdaAgvPositionSchema = Type.Object({
  x: Type.Number(),
  y: Type.Number(),
  theta: Type.Number(),
  mapId: Type.String(),
  mapDescription: Type.Optional(Type.String()),
  /** False until the vehicle is localised; positions are not to be trusted before. */
  positionInitialized: Type.Boolean(),
  localizationScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  deviationRange: Type.Optional(Type.Number()),
});

export const VdaVelocitySchema = Type.Object({
  vx: Type.Optional(Type.Number()),
  vy: Type.Optional(Type.Number()),
  omega: Type.Optional(Type.Number()),
});

const BoundingBoxReferenceSchema = Type.Object({
  x: Type.Number(),
  y: Type.Number(),
  z: Type.Number(),
  theta: Type.Optional(Type.Number()),
});

const LoadDimensionsSchema = Type.Object({
  length: Type.Number(),
  width: Type.Number(),
  height: Type.Optional(Type.Number()),
});

// ---------------------------------------------------------------------------------------------
// order (master control -> vehicle)

export const VdaNodeSchema = Type.Object({
  nodeId: Type.String(),
  /** Runs across nodes and edges of one order (nodes even, edges odd by convention). */
  sequenceId: Type.Integer({ minimum: 0 }),
  nodeDescription: Type.Optional(Type.String()),
  /** true: base (may be driven to); false: horizon (planned, not yet released). */
  released: Type.Boolean(),
  nodePosition: Type.Optional(VdaNodePositionSchema),
  actions: Type.Array(VdaActionSchema),
});

export const VdaEdgeSchema = Type.Object({
  edgeId: Type.String(),
  sequenceId: Type.Integer({ minimum: 0 }),
  edgeDescription: Type.Optional(Type.String()),
  released: Type.Boolean(),
  startNodeId: Type.String(),
  endNodeId: Type.String(),
  maxSpeed: Type.Optional(Type.Number()),
  maxHeight: Type.Optional(Type.Number()),
  minHeight: Type.Optional(Type.Number()),
  orientation: Type.Optional(Type.Number({ minimum: -PI, maximum: PI })),
  orientationType: Type.Optional(Type.Enum(['GLOBAL', 'TANGENTIAL'])),
  direction: Type.Optional(Type.String()),
  rotationAllowed: Type.Optional(Type.Boolean()),
  maxRotationSpeed: Type.Optional(Type.Number()),
  length: Type.Optional(Type.Number()),
  trajectory: Type.Optional(VdaTrajectorySchema),
  actions: Type.Array(VdaActionSchema),
});

export const VdaOrderSchema = Type.Object({
  ...headerFields,
  orderId: Type.String(),
  /** Vehicles ignore a repeated (orderId, orderUpdateId), so resending is safe. */
  orderUpdateId: Type.Integer({ minimum: 0 }),
  zoneSetId: Type.Optional(Type.String()),
  nodes: Type.Array(VdaNodeSchema),
  edges: Type.Array(VdaEdgeSchema),
});

// ---------------------------------------------------------------------------------------------
// instantActions (master control -> vehicle)

export const VdaInstantActionsSchema = Type.Object({
  ...headerFields,
  actions: Type.Array(VdaActionSchema),
});

// ---------------------------------------------------------------------------------------------
// state (vehicle -> master control)

export const VdaActionStatusSchema = Type.Enum(['WAITING', 'INITIALIZING', 'RUNNING', 'PAUSED', 'FINISHED', 'FAILED']);

export const VdaOperatingModeSchema = Type.Enum(['AUTOMATIC', 'SEMIAUTOMATIC', 'MANUAL', 'SERVICE', 'TEACHIN']);

export const VdaNodeStateSchema = Type.Object({
  nodeId: Type.String(),
  sequenceId: Type.Integer(),
  nodeDescription: Type.Optional(Type.String()),
  nodePosition: Type.Optional(VdaNodePositionSchema),
  released: Type.Boolean(),
});

export const VdaEdgeStateSchema = Type.Object({
  edgeId: Type.String(),
  sequenceId: Type.Integer(),
  edgeDescription: Type.Optional(Type.String()),
  released: Type.Boolean(),
  trajectory: Type.Optional(StateTrajectorySchema),
});

export const VdaLoadSchema = Type.Object({
  loadId: Type.Optional(Type.String()),
  loadType: Type.Optional(Type.String()),
  loadPosition: Type.Optional(Type.String()),
  boundingBoxReference: Type.Optional(BoundingBoxReferenceSchema),
  loadDimensions: Type.Optional(LoadDimensionsSchema),
  weight: Type.Optional(Type.Number({ minimum: 0 })),
});

export const VdaActionStateSchema = Type.Object({
  actionId: Type.String(),
  actionType: Type.Optional(Type.String()),
  actionDescription: Type.Optional(Type.String()),
  actionStatus: VdaActionStatusSchema,
  resultDescription: Type.Optional(Type.String()),
});

export const VdaBatteryStateSchema = Type.Object({
  /** State of charge in percent. */
  batteryCharge: Type.Number(),
  batteryVoltage: Type.Optional(Type.Number()),
  batteryHealth: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  charging: Type.Boolean(),
  reach: Type.Optional(Type.Number({ minimum: 0 })),
});

const ReferenceSchema = Type.Object({ referenceKey: Type.String(), referenceValue: Type.String() });

export const VdaErrorSchema = Type.Object({
  errorType: Type.String(),
  errorReferences: Type.Optional(Type.Array(ReferenceSchema)),
  errorDescription: Type.Optional(Type.String()),
  /** Not in the 2.0 schema (added in 2.1); accepted because newer vehicles send it. */
  errorHint: Type.Optional(Type.String()),
  errorLevel: Type.Enum(['WARNING', 'FATAL']),
});

export const VdaInformationSchema = Type.Object({
  infoType: Type.String(),
  infoReferences: Type.Optional(Type.Array(ReferenceSchema)),
  infoDescription: Type.Optional(Type.String()),
  infoLevel: Type.Enum(['INFO', 'DEBUG']),
});

export const VdaSafetyStateSchema = Type.Object({
  eStop: Type.Enum(['AUTOACK', 'MANUAL', 'REMOTE', 'NONE']),
  fieldViolation: Type.Boolean(),
});

export const VdaStateSchema = Type.Object({
  ...headerFields,
  /** Echo of the current order; the core treats an order as accepted only once echoed. */
  orderId: Type.String(),
  orderUpdateId: Type.Integer({ minimum: 0 }),
  zoneSetId: Type.Optional(Type.String()),
  lastNodeId: Type.String(),
  lastNodeSequenceId: Type.Integer({ minimum: 0 }),
  driving: Type.Boolean(),
  paused: Type.Optional(Type.Boolean()),
  /** The vehicle is close to the end of its base and asks for more released nodes. */
  newBaseRequest: Type.Optional(Type.Boolean()),
  distanceSinceLastNode: Type.Optional(Type.Number()),
  operatingMode: VdaOperatingModeSchema,
  nodeStates: Type.Array(VdaNodeStateSchema),
  edgeStates: Type.Array(VdaEdgeStateSchema),
  agvPosition: Type.Optional(VdaAgvPositionSchema),
  velocity: Type.Optional(VdaVelocitySchema),
  loads: Type.Optional(Type.Array(VdaLoadSchema)),
  actionStates: Type.Array(VdaActionStateSchema),
  batteryState: VdaBatteryStateSchema,
  errors: Type.Array(VdaErrorSchema),
  /** Named `information` in 2.0 (`informations` in 1.x). */
  information: Type.Optional(Type.Array(VdaInformationSchema)),
  safetyState: VdaSafetyStateSchema,
});

// ---------------------------------------------------------------------------------------------
// visualization (vehicle -> master control, high rate, QoS 0)

export const VdaVisualizationSchema = Type.Object({
  ...headerFields,
  agvPosition: Type.Optional(VdaAgvPositionSchema),
  velocity: Type.Optional(VdaVelocitySchema),
});

// ---------------------------------------------------------------------------------------------
// connection (vehicle -> master control, retained; last will CONNECTIONBROKEN)

export const VdaConnectionStateSchema = Type.Enum(['ONLINE', 'OFFLINE', 'CONNECTIONBROKEN']);

export const VdaConnectionSchema = Type.Object({
  ...headerFields,
  connectionState: VdaConnectionStateSchema,
});

// ---------------------------------------------------------------------------------------------
// factsheet (vehicle -> master control, retained)
//
// The top-level sections stay required as in the official schema, but their insides are loose:
// vendors fill them unevenly, and the core only reads typeSpecification and
// protocolFeatures.agvActions[].actionType. Enumerations there are plain strings so that a
// vendor's newer class or kinematic does not make the whole vehicle unusable.

const LooseSection = Type.Record(Type.String(), Type.Unknown());

export const VdaAgvActionSchema = Type.Object({
  actionType: Type.String(),
  actionDescription: Type.Optional(Type.String()),
  /** Usually some of INSTANT, NODE, EDGE. */
  actionScopes: Type.Optional(Type.Array(Type.String())),
  actionParameters: Type.Optional(
    Type.Array(
      Type.Object({
        key: Type.String(),
        valueDataType: Type.Optional(Type.String()),
        description: Type.Optional(Type.String()),
        isOptional: Type.Optional(Type.Boolean()),
      }),
    ),
  ),
  resultDescription: Type.Optional(Type.String()),
  blockingTypes: Type.Optional(Type.Array(Type.String())),
});

export const VdaTypeSpecificationSchema = Type.Object({
  seriesName: Type.String(),
  seriesDescription: Type.Optional(Type.String()),
  /** Usually DIFF, OMNI or THREEWHEEL. */
  agvKinematic: Type.String(),
  /** Usually FORKLIFT, CONVEYOR, TUGGER or CARRIER. */
  agvClass: Type.String(),
  /** kg. */
  maxLoadMass: Type.Number({ minimum: 0 }),
  localizationTypes: Type.Array(Type.String()),
  navigationTypes: Type.Array(Type.String()),
});

export const VdaProtocolFeaturesSchema = Type.Object({
  optionalParameters: Type.Optional(Type.Array(LooseSection)),
  agvActions: Type.Array(VdaAgvActionSchema),
});

export const VdaFactsheetSchema = Type.Object({
  ...headerFields,
  typeSpecification: VdaTypeSpecificationSchema,
  physicalParameters: LooseSection,
  protocolLimits: LooseSection,
  protocolFeatures: VdaProtocolFeaturesSchema,
  agvGeometry: LooseSection,
  loadSpecification: LooseSection,
  localizationParameters: Type.Optional(LooseSection),
});

// ---------------------------------------------------------------------------------------------
// Static types

export type VdaBlockingType = Static<typeof VdaBlockingTypeSchema>;
export type VdaActionParameter = Static<typeof VdaActionParameterSchema>;
export type VdaAction = Static<typeof VdaActionSchema>;
export type VdaNodePosition = Static<typeof VdaNodePositionSchema>;
export type VdaTrajectory = Static<typeof VdaTrajectorySchema>;
export type VdaNode = Static<typeof VdaNodeSchema>;
export type VdaEdge = Static<typeof VdaEdgeSchema>;
export type VdaOrder = Static<typeof VdaOrderSchema>;
export type VdaInstantActions = Static<typeof VdaInstantActionsSchema>;
export type VdaActionStatus = Static<typeof VdaActionStatusSchema>;
export type VdaOperatingMode = Static<typeof VdaOperatingModeSchema>;
export type VdaNodeState = Static<typeof VdaNodeStateSchema>;
export type VdaEdgeState = Static<typeof VdaEdgeStateSchema>;
export type VdaLoad = Static<typeof VdaLoadSchema>;
export type VdaActionState = Static<typeof VdaActionStateSchema>;
export type VdaBatteryState = Static<typeof VdaBatteryStateSchema>;
export type VdaError = Static<typeof VdaErrorSchema>;
export type VdaInformation = Static<typeof VdaInformationSchema>;
export type VdaSafetyState = Static<typeof VdaSafetyStateSchema>;
export type VdaAgvPosition = Static<typeof VdaAgvPositionSchema>;
export type VdaVelocity = Static<typeof VdaVelocitySchema>;
export type VdaState = Static<typeof VdaStateSchema>;
export type VdaVisualization = Static<typeof VdaVisualizationSchema>;
export type VdaConnectionState = Static<typeof VdaConnectionStateSchema>;
export type VdaConnection = Static<typeof VdaConnectionSchema>;
export type VdaAgvAction = Static<typeof VdaAgvActionSchema>;
export type VdaTypeSpecification = Static<typeof VdaTypeSpecificationSchema>;
export type VdaFactsheet = Static<typeof VdaFactsheetSchema>;

/** Topic name -> message type; the topic names are the last MQTT topic level. */
export interface VdaMessages {
  order: VdaOrder;
  instantActions: VdaInstantActions;
  state: VdaState;
  visualization: VdaVisualization;
  connection: VdaConnection;
  factsheet: VdaFactsheet;
}
export type VdaTopicName = keyof VdaMessages;

export const VDA_TOPICS: readonly VdaTopicName[] = [
  'order',
  'instantActions',
  'state',
  'visualization',
  'connection',
  'factsheet',
] as const;

export const VDA_SCHEMAS: { readonly [K in VdaTopicName]: TSchema } = {
  order: VdaOrderSchema,
  instantActions: VdaInstantActionsSchema,
  state: VdaStateSchema,
  visualization: VdaVisualizationSchema,
  connection: VdaConnectionSchema,
  factsheet: VdaFactsheetSchema,
};
