/**
 * The embedded broker's worker thread: runs aedes (./aedes-server.ts) with the options the core
 * sent in `workerData`, and reports back over the parent port — listening, refusals (counted and
 * logged on the core's side, with its metrics and rate limit), client errors, closed. The logins
 * arrive as data and are checked here, so scrypt and every packet's parsing and routing stay off
 * the core's event loop and heap.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MqttAcl } from '../../domain/mqtt-acl.js';
import { serveAedes, type AedesServer } from './aedes-server.js';
import type { BrokerWorkerData, FromBrokerWorker, ToBrokerWorker } from './broker-worker-messages.js';
import { MqttCredentials } from './mqtt-credentials.js';

const port = parentPort;
if (!port) throw new Error('broker-worker.ts runs as a worker thread of the embedded broker');
const data = workerData as BrokerWorkerData;
const send = (m: FromBrokerWorker): void => port.postMessage(m);
const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

let server: AedesServer | undefined;
port.on('message', (m: ToBrokerWorker) => {
  if (m.kind !== 'close') return;
  void (server?.close() ?? Promise.resolve()).then(
    () => send({ kind: 'closed' }),
    (err: unknown) => send({ kind: 'closed', error: String(err) }),
  );
});

serveAedes({
  host: data.host,
  port: data.port,
  ...(data.tls ? { tls: { cert: asBuffer(data.tls.cert), key: asBuffer(data.tls.key) } } : {}),
  ...(data.security
    ? {
        security: {
          credentials: MqttCredentials.fromData(data.security.credentials),
          acl: new MqttAcl(data.security.vdaInterface),
          anonymousObservers: data.security.anonymousObservers,
          onRefused: (reason, key, msg, fields) => send({ kind: 'refused', reason, key, msg, fields }),
        },
      }
    : {}),
  onClientError: (clientId, message) => {
    if (data.reportClientErrors) send({ kind: 'clientError', clientId, message });
  },
}).then(
  (s) => {
    server = s;
    send({ kind: 'listening', port: s.port });
  },
  (err: NodeJS.ErrnoException) => send({ kind: 'failed', message: err.message, ...(err.code !== undefined ? { code: err.code } : {}) }),
);
