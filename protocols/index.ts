/** Pickwire wire contracts: everything src/, devices/ and simulators/ may import from protocols/. */
export * from './errors.js';

export * from './wcs/messages.js';
export { decodeWcs, encodeWcs } from './wcs/codec.js';
export { WCS_PROTO_FILES } from './wcs/proto-schema.js';

export * from './vda5050/schemas.js';
export { decodeVda, encodeVda, VDA_MAX_PAYLOAD_BYTES } from './vda5050/codec.js';

export * from './topics.js';
export { CorePresenceSchema } from './core-presence.js';
