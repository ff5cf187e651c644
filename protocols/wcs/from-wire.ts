/**
 * protobufjs objects -> validated TS messages. protobufjs guarantees field types but not
 * meaning: a message can lack its header, carry UNSPECIFIED or unknown enum numbers, NaN
 * doubles or empty ids. Every such case throws ProtocolError naming the field, so the core can
 * log a reason and drop the message.
 */
import { ProtocolError } from '../errors.js';
import {
  ACTION_STATUS_MAP,
  BLOCKING_TYPE_MAP,
  CONNECTION_STATE_MAP,
  DEVICE_CLASS_MAP,
  ERROR_LEVEL_MAP,
  type EnumMap,
} from './enum-maps.js';
import type {
  WcsAction,
  WcsActionParameter,
  WcsActionState,
  WcsConnection,
  WcsError,
  WcsErrorReference,
  WcsFactsheet,
  WcsHeader,
  WcsInstantActions,
  WcsJob,
  WcsJobState,
  WcsLoadPosition,
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
  WireLoadPosition,
  WireSupportedAction,
  WireTelemetry,
} from './wire.js';

// Date and time with optional fraction and an explicit zone; no backtracking-prone parts.
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
// This decoder speaks major version 1; minors and patches only add fields.
const VERSION_1 = /^1\.\d{1,9}\.\d{1,9}$/;

function fail(path: string, problem: string): never {
  throw new ProtocolError(`${path} ${problem}`, [{ path, problem }]);
}

/** Quotes a wire value for an error message without letting a huge string through. */
function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
}

/** Escapes a map key for use as one JSON-pointer segment (RFC 6901). */
function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function nonEmpty(s: string, path: string): string {
  if (s === '') fail(path, 'must not be empty');
  return s;
}

function finite(n: number, path: string): number {
  if (!Number.isFinite(n)) fail(path, `must be a finite number, got ${n}`);
  return n;
}

function enumValue<S extends string>(map: EnumMap<S>, n: number, path: string): S {
  const s = map.fromWire(n);
  if (s === undefined) fail(path, n === 0 ? 'is unspecified' : `has unknown value ${n}`);
  return s;
}

function finiteRecord(r: Record<string, number>, path: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(r)) {
    const v = r[key] as number;
    if (!Number.isFinite(v)) fail(`${path}/${pointerToken(key)}`, `must be a finite number, got ${v}`);
    out[key] = v;
  }
  return out;
}

function header(h: WireHeader | null | undefined): WcsHeader {
  if (h == null) fail('/header', 'is missing');
  if (!ISO_TIMESTAMP.test(h.timestamp)) fail('/header/timestamp', `must be ISO 8601, got ${quote(h.timestamp)}`);
  if (!VERSION_1.test(h.version)) fail('/header/version', `must be 1.x.y, got ${quote(h.version)}`);
  return {
    headerId: h.headerId,
    timestamp: h.timestamp,
    version: h.version,
    site: h.site,
    deviceId: nonEmpty(h.deviceId, '/header/deviceId'),
  };
}

function actionParameters(list: WireAction['actionParameters'], path: string): WcsActionParameter[] {
  return list.map((p, i) => ({ key: nonEmpty(p.key, `${path}/${i}/key`), value: p.value }));
}

function actions(list: WireAction[], path: string): WcsAction[] {
  return list.map((a, i) => {
    const at = `${path}/${i}`;
    const out: WcsAction = {
      actionId: nonEmpty(a.actionId, `${at}/actionId`),
      actionType: nonEmpty(a.actionType, `${at}/actionType`),
      blockingType: enumValue(BLOCKING_TYPE_MAP, a.blockingType, `${at}/blockingType`),
      actionParameters: actionParameters(a.actionParameters, `${at}/actionParameters`),
    };
    if (a.actionDescription) out.actionDescription = a.actionDescription;
    return out;
  });
}

function actionStates(list: WireActionState[]): WcsActionState[] {
  return list.map((s, i) => {
    const at = `/actionStates/${i}`;
    const out: WcsActionState = {
      actionId: nonEmpty(s.actionId, `${at}/actionId`),
      actionType: s.actionType,
      actionStatus: enumValue(ACTION_STATUS_MAP, s.actionStatus, `${at}/actionStatus`),
    };
    if (s.resultDescription) out.resultDescription = s.resultDescription;
    return out;
  });
}

function errors(list: WireError[]): WcsError[] {
  return list.map((e, i) => {
    const at = `/errors/${i}`;
    const refs: WcsErrorReference[] = e.errorReferences.map((r) => ({
      referenceKey: r.referenceKey,
      referenceValue: r.referenceValue,
    }));
    const out: WcsError = {
      errorType: nonEmpty(e.errorType, `${at}/errorType`),
      errorLevel: enumValue(ERROR_LEVEL_MAP, e.errorLevel, `${at}/errorLevel`),
      errorReferences: refs,
    };
    if (e.errorDescription) out.errorDescription = e.errorDescription;
    if (e.errorHint) out.errorHint = e.errorHint;
    return out;
  });
}

function loads(list: WireLoadPosition[]): WcsLoadPosition[] {
  return list.map((l, i) => ({
    loadId: nonEmpty(l.loadId, `/loads/${i}/loadId`),
    locationId: l.locationId,
    position: finite(l.position, `/loads/${i}/position`),
  }));
}

function supportedActions(list: WireSupportedAction[]): WcsSupportedAction[] {
  return list.map((s, i) => {
    const out: WcsSupportedAction = {
      actionType: nonEmpty(s.actionType, `/supportedActions/${i}/actionType`),
      parameterKeys: s.parameterKeys.slice(),
    };
    if (s.description) out.description = s.description;
    return out;
  });
}

export function jobFromWire(w: WireJob): WcsJob {
  return {
    header: header(w.header),
    jobId: nonEmpty(w.jobId, '/jobId'),
    jobUpdateId: w.jobUpdateId,
    actions: actions(w.actions, '/actions'),
  };
}

export function instantActionsFromWire(w: WireInstantActions): WcsInstantActions {
  return { header: header(w.header), actions: actions(w.actions, '/actions') };
}

export function jobStateFromWire(w: WireJobState): WcsJobState {
  // jobId may be empty: a device that never had a job still reports state.
  const out: WcsJobState = {
    header: header(w.header),
    jobId: w.jobId,
    jobUpdateId: w.jobUpdateId,
    actionStates: actionStates(w.actionStates),
    errors: errors(w.errors),
    paused: w.paused,
  };
  if (w.operatingMode) out.operatingMode = w.operatingMode;
  return out;
}

export function telemetryFromWire(w: WireTelemetry): WcsTelemetry {
  const out: WcsTelemetry = {
    header: header(w.header),
    deviceState: nonEmpty(w.deviceState, '/deviceState'),
    metrics: finiteRecord(w.metrics, '/metrics'),
    loads: loads(w.loads),
  };
  if (w.batteryCharge != null) {
    const charge = finite(w.batteryCharge, '/batteryCharge');
    if (charge < 0 || charge > 100) fail('/batteryCharge', `must be within 0..100, got ${charge}`);
    out.batteryCharge = charge;
  }
  return out;
}

export function connectionFromWire(w: WireConnection): WcsConnection {
  return {
    header: header(w.header),
    connectionState: enumValue(CONNECTION_STATE_MAP, w.connectionState, '/connectionState'),
  };
}

export function factsheetFromWire(w: WireFactsheet): WcsFactsheet {
  return {
    header: header(w.header),
    deviceClass: enumValue(DEVICE_CLASS_MAP, w.deviceClass, '/deviceClass'),
    manufacturer: w.manufacturer,
    model: w.model,
    supportedActions: supportedActions(w.supportedActions),
    capacities: finiteRecord(w.capacities, '/capacities'),
  };
}
