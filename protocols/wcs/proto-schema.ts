/**
 * Loads ./v1/*.proto once per process and hands out the resolved protobufjs types and enums.
 * Everything reflective happens here at module load, so the codec hot path only calls the
 * generated encode/decode functions.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { WcsTopicName } from './messages.js';

const PACKAGE = 'pickwire.wcs.v1';

const PROTO_FILES = [
  'common.proto',
  'job.proto',
  'instant_actions.proto',
  'job_state.proto',
  'telemetry.proto',
  'connection.proto',
  'factsheet.proto',
] as const;

/** Absolute paths of the .proto files, for tools that want to read the contract. */
export const WCS_PROTO_FILES: readonly string[] = PROTO_FILES.map((f) =>
  fileURLToPath(new URL(`./v1/${f}`, import.meta.url)),
);

const root = protobuf.loadSync([...WCS_PROTO_FILES]);
root.resolveAll();

const MESSAGE_NAMES: Record<WcsTopicName, string> = {
  job: 'Job',
  instantActions: 'InstantActions',
  jobState: 'JobState',
  telemetry: 'Telemetry',
  connection: 'Connection',
  factsheet: 'Factsheet',
};

export const WIRE_TYPES: Readonly<Record<WcsTopicName, protobuf.Type>> = {
  job: root.lookupType(`${PACKAGE}.${MESSAGE_NAMES.job}`),
  instantActions: root.lookupType(`${PACKAGE}.${MESSAGE_NAMES.instantActions}`),
  jobState: root.lookupType(`${PACKAGE}.${MESSAGE_NAMES.jobState}`),
  telemetry: root.lookupType(`${PACKAGE}.${MESSAGE_NAMES.telemetry}`),
  connection: root.lookupType(`${PACKAGE}.${MESSAGE_NAMES.connection}`),
  factsheet: root.lookupType(`${PACKAGE}.${MESSAGE_NAMES.factsheet}`),
};

/** Values of a proto enum by name, e.g. { BLOCKING_TYPE_NONE: 1, ... }. */
export function protoEnumValues(name: string): Readonly<Record<string, number>> {
  return root.lookupEnum(`${PACKAGE}.${name}`).values;
}
