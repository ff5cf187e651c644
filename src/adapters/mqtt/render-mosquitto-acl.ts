/**
 * Writes the Mosquitto `acl_file` for the rules of src/domain/mqtt-acl.ts to stdout:
 *
 *   npx tsx src/adapters/mqtt/render-mosquitto-acl.ts [interfaceName] [observer ...] > acl
 *
 * deploy/mosquitto/acl.example is this output for `uagv` and one observer, `pickwire-observer`.
 */
import { renderMosquittoAcl } from '../../domain/mqtt-acl.js';

export const CORE_USERNAME = 'pickwire-core';

const [vdaInterface = 'uagv', ...observers] = process.argv.slice(2);
process.stdout.write(renderMosquittoAcl(vdaInterface, { core: CORE_USERNAME, observers }));
