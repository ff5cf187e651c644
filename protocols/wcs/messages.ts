/**
 * wcs/v1 message types as the rest of Pickwire sees them: camelCase, enums as string unions.
 * The wire format is defined by ./v1/*.proto; ./codec.ts converts between the two.
 */

export const WCS_VERSION = '1.0.0';

export const ACTION_STATUS = {
  WAITING: 'WAITING',
  INITIALIZING: 'INITIALIZING',
  RUNNING: 'RUNNING',
  PAUSED: 'PAUSED',
  FINISHED: 'FINISHED',
  FAILED: 'FAILED',
} as const;
export type ActionStatus = (typeof ACTION_STATUS)[keyof typeof ACTION_STATUS];

export const BLOCKING_TYPE = { NONE: 'NONE', SOFT: 'SOFT', HARD: 'HARD' } as const;
export type BlockingType = (typeof BLOCKING_TYPE)[keyof typeof BLOCKING_TYPE];

export const ERROR_LEVEL = { WARNING: 'WARNING', FATAL: 'FATAL' } as const;
export type ErrorLevel = (typeof ERROR_LEVEL)[keyof typeof ERROR_LEVEL];

export const WCS_DEVICE_CLASSES = ['asrs', 'conveyor', 'arm'] as const;
export type WcsDeviceClass = (typeof WCS_DEVICE_CLASSES)[number];

export const CONNECTION_STATE = {
  ONLINE: 'ONLINE',
  OFFLINE: 'OFFLINE',
  CONNECTIONBROKEN: 'CONNECTIONBROKEN',
} as const;
export type ConnectionState = (typeof CONNECTION_STATE)[keyof typeof CONNECTION_STATE];

/**
 * Usual values of Telemetry.deviceState. The field stays an open string on the wire so vendors
 * can refine it (e.g. 'CHARGING'); these are the ones the core interprets.
 */
export const WCS_DEVICE_STATE = {
  IDLE: 'IDLE',
  BUSY: 'BUSY',
  PAUSED: 'PAUSED',
  FAULT: 'FAULT',
  OFFLINE: 'OFFLINE',
} as const;

export interface WcsHeader {
  headerId: number;
  timestamp: string;
  version: string;
  site: string;
  deviceId: string;
}
export interface WcsActionParameter {
  key: string;
  value: string;
}
export interface WcsAction {
  actionId: string;
  actionType: string;
  blockingType: BlockingType;
  actionParameters: WcsActionParameter[];
  actionDescription?: string;
}
export interface WcsJob {
  header: WcsHeader;
  jobId: string;
  jobUpdateId: number;
  actions: WcsAction[];
}
export interface WcsInstantActions {
  header: WcsHeader;
  actions: WcsAction[];
}
export interface WcsActionState {
  actionId: string;
  actionType: string;
  actionStatus: ActionStatus;
  resultDescription?: string;
}
export interface WcsErrorReference {
  referenceKey: string;
  referenceValue: string;
}
export interface WcsError {
  errorType: string;
  errorLevel: ErrorLevel;
  errorDescription?: string;
  errorReferences: WcsErrorReference[];
  errorHint?: string;
}
export interface WcsJobState {
  header: WcsHeader;
  jobId: string;
  jobUpdateId: number;
  actionStates: WcsActionState[];
  errors: WcsError[];
  paused: boolean;
  operatingMode?: string;
}
export interface WcsLoadPosition {
  loadId: string;
  locationId: string;
  position: number;
}
export interface WcsTelemetry {
  header: WcsHeader;
  deviceState: string;
  metrics: Record<string, number>;
  loads: WcsLoadPosition[];
  batteryCharge?: number;
}
export interface WcsConnection {
  header: WcsHeader;
  connectionState: ConnectionState;
}
export interface WcsSupportedAction {
  actionType: string;
  parameterKeys: string[];
  description?: string;
}
export interface WcsFactsheet {
  header: WcsHeader;
  deviceClass: WcsDeviceClass;
  manufacturer: string;
  model: string;
  supportedActions: WcsSupportedAction[];
  capacities: Record<string, number>;
}

/** Topic name -> message type; the topic names are the last MQTT topic level. */
export interface WcsMessages {
  job: WcsJob;
  instantActions: WcsInstantActions;
  jobState: WcsJobState;
  telemetry: WcsTelemetry;
  connection: WcsConnection;
  factsheet: WcsFactsheet;
}
export type WcsTopicName = keyof WcsMessages;

export const WCS_TOPICS: readonly WcsTopicName[] = [
  'job',
  'instantActions',
  'jobState',
  'telemetry',
  'connection',
  'factsheet',
] as const;
