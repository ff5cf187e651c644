/**
 * Prints one entry for `mqttUsersFile`:
 *
 *   printf '%s' "$DEVICE_PASSWORD" | npx tsx src/adapters/mqtt/hash-password.ts acme/AMR-01 device
 *
 * The password is read from stdin so it never lands in shell history or the process list.
 */
import { MQTT_ROLES, type MqttRole } from '../../domain/mqtt-acl.js';
import { hashMqttPassword } from './mqtt-credentials.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const [username, role = 'device'] = process.argv.slice(2);
if (!username || !MQTT_ROLES.includes(role as MqttRole)) {
  process.stderr.write(`usage: printf '%s' "$PASSWORD" | tsx src/adapters/mqtt/hash-password.ts <username> [${MQTT_ROLES.join('|')}]\n`);
  process.exit(2);
}
const password = await readStdin();
if (password.length < 12) {
  process.stderr.write('refusing a password shorter than 12 characters\n');
  process.exit(2);
}
process.stdout.write(JSON.stringify({ username, role, passwordHash: await hashMqttPassword(password) }) + '\n');
