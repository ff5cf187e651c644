/** One valid VDA 5050 2.0 message per kind, for tests and as copy-paste examples. */
import type { VdaMessages, VdaTopicName } from '../vda5050/schemas.js';

const header = (headerId: number) => ({
  headerId,
  timestamp: '2025-03-11T11:40:03.12Z',
  version: '2.0.0',
  manufacturer: 'Acme',
  serialNumber: 'amr-007',
});

const agvPosition = { x: 12.5, y: 3.25, theta: 1.5707963, mapId: 'floor-1', positionInitialized: true };

export const VDA_SAMPLES: { [K in VdaTopicName]: VdaMessages[K] } = {
  order: {
    ...header(1),
    orderId: 'ord-1',
    orderUpdateId: 0,
    nodes: [
      {
        nodeId: 'n1',
        sequenceId: 0,
        released: true,
        nodePosition: { x: 0, y: 0, theta: 0, allowedDeviationXY: 0.05, mapId: 'floor-1' },
        actions: [],
      },
      {
        nodeId: 'n2',
        sequenceId: 2,
        released: true,
        actions: [
          {
            actionId: 'pick-1',
            actionType: 'pick',
            blockingType: 'HARD',
            actionParameters: [
              { key: 'loadId', value: 'TOTE-0042' },
              { key: 'height', value: 1.2 },
              { key: 'confirm', value: true },
              { key: 'stations', value: ['s1', 's2'] },
              { key: 'extra', value: { side: 'left' } },
            ],
          },
        ],
      },
      { nodeId: 'n3', sequenceId: 4, released: false, actions: [] },
    ],
    edges: [
      {
        edgeId: 'e1',
        sequenceId: 1,
        released: true,
        startNodeId: 'n1',
        endNodeId: 'n2',
        maxSpeed: 1.5,
        orientationType: 'TANGENTIAL',
        trajectory: { degree: 1, knotVector: [0, 0, 1, 1], controlPoints: [{ x: 0, y: 0 }, { x: 5, y: 0, weight: 1 }] },
        actions: [],
      },
      { edgeId: 'e2', sequenceId: 3, released: false, startNodeId: 'n2', endNodeId: 'n3', actions: [] },
    ],
  },
  instantActions: {
    ...header(2),
    actions: [{ actionId: 'ia-1', actionType: 'stateRequest', blockingType: 'NONE' }],
  },
  state: {
    ...header(3),
    orderId: 'ord-1',
    orderUpdateId: 0,
    lastNodeId: 'n1',
    lastNodeSequenceId: 0,
    driving: true,
    paused: false,
    newBaseRequest: false,
    distanceSinceLastNode: 1.2,
    operatingMode: 'AUTOMATIC',
    nodeStates: [{ nodeId: 'n2', sequenceId: 2, released: true }],
    edgeStates: [{ edgeId: 'e1', sequenceId: 1, released: true }],
    agvPosition,
    velocity: { vx: 1.0, vy: 0, omega: 0 },
    loads: [{ loadId: 'TOTE-0042', loadType: 'tote', weight: 7.5 }],
    actionStates: [{ actionId: 'pick-1', actionType: 'pick', actionStatus: 'WAITING' }],
    batteryState: { batteryCharge: 76.5, charging: false, batteryHealth: 97 },
    errors: [
      {
        errorType: 'orderUpdateError',
        errorLevel: 'WARNING',
        errorReferences: [{ referenceKey: 'orderUpdateId', referenceValue: '0' }],
      },
    ],
    information: [{ infoType: 'battery', infoLevel: 'INFO' }],
    safetyState: { eStop: 'NONE', fieldViolation: false },
  },
  visualization: { ...header(4), agvPosition, velocity: { vx: 0.5 } },
  connection: { ...header(5), connectionState: 'ONLINE' },
  factsheet: {
    ...header(6),
    typeSpecification: {
      seriesName: 'Picker 2',
      agvKinematic: 'DIFF',
      agvClass: 'CARRIER',
      maxLoadMass: 60,
      localizationTypes: ['NATURAL'],
      navigationTypes: ['AUTONOMOUS'],
    },
    physicalParameters: { speedMin: 0.01, speedMax: 2, accelerationMax: 1, decelerationMax: 1.5, heightMin: 0.4, heightMax: 1.9, width: 0.6, length: 0.9 },
    protocolLimits: { maxStringLens: {}, maxArrayLens: {}, timing: { minOrderInterval: 0.5, minStateInterval: 0.1 } },
    protocolFeatures: {
      optionalParameters: [],
      agvActions: [
        { actionType: 'pick', actionScopes: ['NODE'], actionParameters: [{ key: 'loadId', valueDataType: 'STRING' }] },
        { actionType: 'drop', actionScopes: ['NODE'] },
        { actionType: 'pickItem', actionScopes: ['NODE'], actionDescription: 'pick pieces from a tote' },
      ],
    },
    agvGeometry: {},
    loadSpecification: { loadPositions: ['front'] },
  },
};
