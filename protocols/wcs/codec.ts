/**
 * wcs/v1 protobuf codec. Encode trusts its typed input; decode is the gate for everything a
 * device sends and throws only ProtocolError, whatever the bytes.
 */
import type protobuf from 'protobufjs';
import { ProtocolError } from '../errors.js';
import {
  connectionFromWire,
  factsheetFromWire,
  instantActionsFromWire,
  jobFromWire,
  jobStateFromWire,
  telemetryFromWire,
} from './from-wire.js';
import type { WcsMessages, WcsTopicName } from './messages.js';
import { WIRE_TYPES } from './proto-schema.js';
import {
  connectionToWire,
  factsheetToWire,
  instantActionsToWire,
  jobStateToWire,
  jobToWire,
  telemetryToWire,
} from './to-wire.js';
import type {
  WireConnection,
  WireFactsheet,
  WireInstantActions,
  WireJob,
  WireJobState,
  WireTelemetry,
} from './wire.js';

interface Codec<K extends WcsTopicName> {
  readonly type: protobuf.Type;
  toWire(msg: WcsMessages[K]): object;
  fromWire(decoded: protobuf.Message): WcsMessages[K];
}

// protobufjs decodes into instances shaped like our Wire* interfaces (see ./wire.ts); the casts
// below are the single place where that correspondence is asserted.
const CODECS: { readonly [K in WcsTopicName]: Codec<K> } = {
  job: {
    type: WIRE_TYPES.job,
    toWire: jobToWire,
    fromWire: (d) => jobFromWire(d as unknown as WireJob),
  },
  instantActions: {
    type: WIRE_TYPES.instantActions,
    toWire: instantActionsToWire,
    fromWire: (d) => instantActionsFromWire(d as unknown as WireInstantActions),
  },
  jobState: {
    type: WIRE_TYPES.jobState,
    toWire: jobStateToWire,
    fromWire: (d) => jobStateFromWire(d as unknown as WireJobState),
  },
  telemetry: {
    type: WIRE_TYPES.telemetry,
    toWire: telemetryToWire,
    fromWire: (d) => telemetryFromWire(d as unknown as WireTelemetry),
  },
  connection: {
    type: WIRE_TYPES.connection,
    toWire: connectionToWire,
    fromWire: (d) => connectionFromWire(d as unknown as WireConnection),
  },
  factsheet: {
    type: WIRE_TYPES.factsheet,
    toWire: factsheetToWire,
    fromWire: (d) => factsheetFromWire(d as unknown as WireFactsheet),
  },
};

function codecFor<K extends WcsTopicName>(kind: K): Codec<K> {
  // Guards callers that route a topic name from the network without checking it first.
  const codec = Object.hasOwn(CODECS, kind) ? CODECS[kind] : undefined;
  if (codec === undefined) throw new ProtocolError(`unknown wcs/v1 message kind ${JSON.stringify(String(kind))}`);
  return codec;
}

export function encodeWcs<K extends WcsTopicName>(kind: K, msg: WcsMessages[K]): Uint8Array {
  const codec = codecFor(kind);
  return codec.type.encode(codec.toWire(msg)).finish();
}

export function decodeWcs<K extends WcsTopicName>(kind: K, bytes: Uint8Array): WcsMessages[K] {
  const codec = codecFor(kind);
  let decoded: protobuf.Message;
  try {
    decoded = codec.type.decode(bytes);
  } catch (err) {
    // protobufjs throws RangeError/Error for truncated input, bad wire types and nesting depth.
    const reason = err instanceof Error ? err.message : String(err);
    throw new ProtocolError(`wcs/v1 ${kind}: undecodable protobuf (${reason})`, [{ path: '', problem: reason }]);
  }
  try {
    return codec.fromWire(decoded);
  } catch (err) {
    if (err instanceof ProtocolError) throw new ProtocolError(`wcs/v1 ${kind}: ${err.message}`, err.problems);
    // Validation only throws ProtocolError; anything else is a bug, but the contract still holds.
    const reason = err instanceof Error ? err.message : String(err);
    throw new ProtocolError(`wcs/v1 ${kind}: invalid message (${reason})`, [{ path: '', problem: reason }]);
  }
}
