/**
 * VDA 5050 2.0 JSON codec. decodeVda is the gate for everything a vehicle sends: it throws only
 * ProtocolError, with the first few violations and their paths, whatever the payload.
 */
import { Compile, type Validator } from 'typebox/compile';
import { ProtocolError } from '../errors.js';
import { decodeJsonPayload, MAX_JSON_PAYLOAD_BYTES } from '../json-payload.js';
import { VDA_SCHEMAS, type VdaMessages, type VdaTopicName } from './schemas.js';

/** Larger payloads are rejected unparsed. */
export const VDA_MAX_PAYLOAD_BYTES = MAX_JSON_PAYLOAD_BYTES;

// Compiled once per kind at module load; compiling is far costlier than checking.
const VALIDATORS: { readonly [K in VdaTopicName]: Validator } = {
  order: Compile(VDA_SCHEMAS.order),
  instantActions: Compile(VDA_SCHEMAS.instantActions),
  state: Compile(VDA_SCHEMAS.state),
  visualization: Compile(VDA_SCHEMAS.visualization),
  connection: Compile(VDA_SCHEMAS.connection),
  factsheet: Compile(VDA_SCHEMAS.factsheet),
};

function validatorFor(kind: VdaTopicName): Validator {
  // Guards callers that route a topic name from the network without checking it first.
  const v = Object.hasOwn(VALIDATORS, kind) ? VALIDATORS[kind] : undefined;
  if (v === undefined) throw new ProtocolError(`unknown VDA 5050 message kind ${JSON.stringify(String(kind))}`);
  return v;
}

export function decodeVda<K extends VdaTopicName>(kind: K, payload: Uint8Array | string): VdaMessages[K] {
  return decodeJsonPayload<VdaMessages[K]>(`vda5050 ${kind}`, validatorFor(kind), payload);
}

/** Serialises a message for publishing. The message type is the contract; no validation here. */
export function encodeVda<K extends VdaTopicName>(kind: K, msg: VdaMessages[K]): string {
  validatorFor(kind);
  return JSON.stringify(msg);
}
