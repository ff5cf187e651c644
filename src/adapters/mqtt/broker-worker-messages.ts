/** What the core and the embedded broker's worker thread say to each other. */
import type { MqttRefusal } from './aedes-server.js';
import type { CredentialsData } from './mqtt-credentials.js';

export interface BrokerWorkerData {
  host: string;
  port: number;
  tls?: { cert: Uint8Array; key: Uint8Array };
  security?: { credentials: CredentialsData; vdaInterface: string; anonymousObservers: boolean };
  /** Only when the core logs at debug: a client error is one line per misbehaving client. */
  reportClientErrors: boolean;
}

export type FromBrokerWorker =
  | { kind: 'listening'; port: number }
  | { kind: 'failed'; message: string; code?: string }
  | { kind: 'refused'; reason: MqttRefusal; key: string; msg: string; fields: Record<string, unknown> }
  | { kind: 'clientError'; clientId: string; message: string }
  | { kind: 'closed'; error?: string };

export type ToBrokerWorker = { kind: 'close' };
