/**
 * The VDA 5050 factsheet of the simulated tote AMR: what it can do, so the core's vehicle
 * profile can be derived from the factsheet rather than configured by hand.
 */
import type { VdaFactsheetBody } from '../devices/index.js';

export interface AmrPhysics {
  maxSpeed: number;
  accel: number;
  /** Seconds for a full turn on the spot. */
  turnSecondsPerRevolution: number;
  /** Seconds to lift (pick) or set down (drop) a tote. */
  handlingSeconds: number;
}

export const DEFAULT_AMR_PHYSICS: AmrPhysics = { maxSpeed: 1.5, accel: 0.5, turnSecondsPerRevolution: 2.5, handlingSeconds: 3 };

/** Node actions the simulated AMR executes; anything else FAILS with a result description. */
export const AMR_NODE_ACTIONS = ['pick', 'drop'] as const;
/** Instant actions it understands. */
export const AMR_INSTANT_ACTIONS = ['startPause', 'stopPause', 'cancelOrder', 'stateRequest', 'factsheetRequest', 'startCharging', 'stopCharging'] as const;

const loadParams = [
  { key: 'loadId', valueDataType: 'STRING', description: 'Tote id', isOptional: true },
  { key: 'loadType', valueDataType: 'STRING', isOptional: true },
  { key: 'locationId', valueDataType: 'STRING', description: 'Storage location or station', isOptional: true },
];

export function amrFactsheet(model: string, physics: AmrPhysics): VdaFactsheetBody {
  return {
    typeSpecification: {
      seriesName: model,
      seriesDescription: 'Pickwire simulated tote-handling AMR',
      agvKinematic: 'DIFF',
      agvClass: 'CARRIER',
      maxLoadMass: 30,
      localizationTypes: ['NATURAL'],
      navigationTypes: ['VIRTUAL_LINE_GUIDED'],
    },
    physicalParameters: {
      speedMin: 0.05,
      speedMax: physics.maxSpeed,
      accelerationMax: physics.accel,
      decelerationMax: physics.accel,
      heightMin: 0.4,
      heightMax: 1.6,
      width: 0.6,
      length: 0.9,
    },
    protocolLimits: {
      maxStringLens: {},
      maxArrayLens: {},
      timing: { minOrderInterval: 0.1, minStateInterval: 0.1, defaultStateInterval: 5, visualizationInterval: 0.5 },
    },
    protocolFeatures: {
      optionalParameters: [],
      agvActions: [
        ...AMR_NODE_ACTIONS.map((actionType) => ({
          actionType,
          actionDescription: actionType === 'pick' ? 'Lift a tote onto the robot' : 'Set the tote down',
          actionScopes: ['NODE'],
          actionParameters: loadParams,
          blockingTypes: ['HARD'],
        })),
        ...AMR_INSTANT_ACTIONS.map((actionType) => ({ actionType, actionScopes: ['INSTANT'] })),
      ],
    },
    agvGeometry: {},
    loadSpecification: {
      loadPositions: ['deck'],
      loadSets: [{ setName: 'tote', loadType: 'TOTE', pickTime: physics.handlingSeconds, dropTime: physics.handlingSeconds, maxWeight: 30 }],
    },
  };
}
