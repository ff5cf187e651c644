/**
 * One representative message per wcs/v1 kind. write-golden.ts turns these into the golden
 * vectors; after that the vectors on disk, not this file, are the reference.
 */
import type { WcsMessages, WcsTopicName } from '../wcs/messages.js';

const header = (deviceId: string, headerId: number) => ({
  headerId,
  timestamp: '2025-03-11T11:40:03.120Z',
  version: '1.0.0',
  site: 'dc-berlin-1',
  deviceId,
});

export const WCS_V1_SAMPLES: { [K in WcsTopicName]: WcsMessages[K] } = {
  job: {
    header: header('asrs-01', 42),
    jobId: 'job-7f3c',
    jobUpdateId: 1,
    actions: [
      {
        actionId: 'a-1',
        actionType: 'retrieve',
        blockingType: 'HARD',
        actionParameters: [
          { key: 'loadId', value: 'TOTE-0042' },
          { key: 'fromLocation', value: 'A-03-12-2' },
          { key: 'toPort', value: 'port-2' },
        ],
        actionDescription: 'bring tote to port 2',
      },
      { actionId: 'a-2', actionType: 'present', blockingType: 'SOFT', actionParameters: [] },
    ],
  },
  instantActions: {
    header: header('conv-loop-1', 7),
    actions: [{ actionId: 'ia-9', actionType: 'pauseJob', blockingType: 'NONE', actionParameters: [] }],
  },
  jobState: {
    header: header('arm-station-3', 1234),
    jobId: 'job-7f3c',
    jobUpdateId: 1,
    actionStates: [
      { actionId: 'a-1', actionType: 'pick', actionStatus: 'FINISHED', resultDescription: 'picked 2 of 2' },
      { actionId: 'a-2', actionType: 'place', actionStatus: 'RUNNING' },
    ],
    errors: [
      {
        errorType: 'gripFailure',
        errorLevel: 'WARNING',
        errorDescription: 'suction lost on first attempt',
        errorReferences: [{ referenceKey: 'actionId', referenceValue: 'a-1' }],
        errorHint: 'check suction cup wear',
      },
    ],
    paused: false,
    operatingMode: 'AUTOMATIC',
  },
  telemetry: {
    header: header('asrs-01', 99001),
    deviceState: 'BUSY',
    metrics: { throughput_per_h: 412.5, motor_temp_c: 48.25 },
    loads: [{ loadId: 'TOTE-0042', locationId: 'lift-1', position: 3.75 }],
    batteryCharge: 87.5,
  },
  connection: {
    header: header('conv-loop-1', 1),
    connectionState: 'CONNECTIONBROKEN',
  },
  factsheet: {
    header: header('arm-station-3', 0),
    deviceClass: 'arm',
    manufacturer: 'Acme Robotics',
    model: 'PickArm 6',
    supportedActions: [
      { actionType: 'pick', parameterKeys: ['sku', 'quantity', 'sourceToteId', 'targetToteId'], description: 'pick pieces' },
      { actionType: 'resetFault', parameterKeys: [] },
    ],
    capacities: { picks_per_hour: 900, max_item_mass_kg: 2.5 },
  },
};
