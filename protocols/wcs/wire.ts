/**
 * Shapes of the protobufjs objects for wcs/v1: camelCase fields, enums as numbers.
 *
 * protobufjs hands back scalars with their proto3 defaults ('' / 0 / false), nested messages as
 * null/undefined when absent and `optional` scalars as null when absent. The encoder accepts
 * the same shapes (undefined/'' fields are simply not written).
 */

export interface WireHeader {
  headerId: number;
  timestamp: string;
  version: string;
  site: string;
  deviceId: string;
}
export interface WireActionParameter {
  key: string;
  value: string;
}
export interface WireAction {
  actionId: string;
  actionType: string;
  blockingType: number;
  actionParameters: WireActionParameter[];
  actionDescription: string | undefined;
}
export interface WireJob {
  header: WireHeader | null | undefined;
  jobId: string;
  jobUpdateId: number;
  actions: WireAction[];
}
export interface WireInstantActions {
  header: WireHeader | null | undefined;
  actions: WireAction[];
}
export interface WireActionState {
  actionId: string;
  actionType: string;
  actionStatus: number;
  resultDescription: string | undefined;
}
export interface WireErrorReference {
  referenceKey: string;
  referenceValue: string;
}
export interface WireError {
  errorType: string;
  errorLevel: number;
  errorDescription: string | undefined;
  errorReferences: WireErrorReference[];
  errorHint: string | undefined;
}
export interface WireJobState {
  header: WireHeader | null | undefined;
  jobId: string;
  jobUpdateId: number;
  actionStates: WireActionState[];
  errors: WireError[];
  paused: boolean;
  operatingMode: string | undefined;
}
export interface WireLoadPosition {
  loadId: string;
  locationId: string;
  position: number;
}
export interface WireTelemetry {
  header: WireHeader | null | undefined;
  deviceState: string;
  metrics: Record<string, number>;
  loads: WireLoadPosition[];
  batteryCharge: number | null | undefined;
}
export interface WireConnection {
  header: WireHeader | null | undefined;
  connectionState: number;
}
export interface WireSupportedAction {
  actionType: string;
  parameterKeys: string[];
  description: string | undefined;
}
export interface WireFactsheet {
  header: WireHeader | null | undefined;
  deviceClass: number;
  manufacturer: string;
  model: string;
  supportedActions: WireSupportedAction[];
  capacities: Record<string, number>;
}
