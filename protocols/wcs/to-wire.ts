/**
 * TS messages -> protobufjs objects. Encoding trusts its typed input (the receiver's decoder is
 * the gate); the only work is mapping string enums to their wire numbers. Explicit literals
 * rather than spreads keep the objects monomorphic for the generated encoders.
 */
import {
  ACTION_STATUS_MAP,
  BLOCKING_TYPE_MAP,
  CONNECTION_STATE_MAP,
  DEVICE_CLASS_MAP,
  ERROR_LEVEL_MAP,
} from './enum-maps.js';
import type {
  WcsAction,
  WcsActionState,
  WcsConnection,
  WcsError,
  WcsFactsheet,
  WcsHeader,
  WcsInstantActions,
  WcsJob,
  WcsJobState,
  WcsSupportedAction,
  WcsTelemetry,
} from './messages.js';
import type {
  WireAction,
  WireActionState,
  WireConnection,
  WireError,
  WireFactsheet,
  WireHeader,
  WireInstantActions,
  WireJob,
  WireJobState,
  WireSupportedAction,
  WireTelemetry,
} from './wire.js';

function header(h: WcsHeader): WireHeader {
  return { headerId: h.headerId, timestamp: h.timestamp, version: h.version, site: h.site, deviceId: h.deviceId };
}

function action(a: WcsAction): WireAction {
  return {
    actionId: a.actionId,
    actionType: a.actionType,
    blockingType: BLOCKING_TYPE_MAP.toWire(a.blockingType),
    actionParameters: a.actionParameters,
    actionDescription: a.actionDescription,
  };
}

function actionState(s: WcsActionState): WireActionState {
  return {
    actionId: s.actionId,
    actionType: s.actionType,
    actionStatus: ACTION_STATUS_MAP.toWire(s.actionStatus),
    resultDescription: s.resultDescription,
  };
}

function error(e: WcsError): WireError {
  return {
    errorType: e.errorType,
    errorLevel: ERROR_LEVEL_MAP.toWire(e.errorLevel),
    errorDescription: e.errorDescription,
    errorReferences: e.errorReferences,
    errorHint: e.errorHint,
  };
}

function supportedAction(s: WcsSupportedAction): WireSupportedAction {
  return { actionType: s.actionType, parameterKeys: s.parameterKeys, description: s.description };
}

export function jobToWire(m: WcsJob): WireJob {
  return { header: header(m.header), jobId: m.jobId, jobUpdateId: m.jobUpdateId, actions: m.actions.map(action) };
}

export function instantActionsToWire(m: WcsInstantActions): WireInstantActions {
  return { header: header(m.header), actions: m.actions.map(action) };
}

export function jobStateToWire(m: WcsJobState): WireJobState {
  return {
    header: header(m.header),
    jobId: m.jobId,
    jobUpdateId: m.jobUpdateId,
    actionStates: m.actionStates.map(actionState),
    errors: m.errors.map(error),
    paused: m.paused,
    operatingMode: m.operatingMode,
  };
}

export function telemetryToWire(m: WcsTelemetry): WireTelemetry {
  return {
    header: header(m.header),
    deviceState: m.deviceState,
    metrics: m.metrics,
    loads: m.loads,
    batteryCharge: m.batteryCharge,
  };
}

export function connectionToWire(m: WcsConnection): WireConnection {
  return { header: header(m.header), connectionState: CONNECTION_STATE_MAP.toWire(m.connectionState) };
}

export function factsheetToWire(m: WcsFactsheet): WireFactsheet {
  return {
    header: header(m.header),
    deviceClass: DEVICE_CLASS_MAP.toWire(m.deviceClass),
    manufacturer: m.manufacturer,
    model: m.model,
    supportedActions: m.supportedActions.map(supportedAction),
    capacities: m.capacities,
  };
}
