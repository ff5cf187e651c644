/**
 * TLS when a certificate is configured (DESIGN §7): the API over HTTPS and the embedded broker
 * over MQTT/TLS, on the same certificate. The certificate is self-signed and made by the test
 * with the openssl CLI (node:crypto cannot write X.509 certificates).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHarness, type Harness } from './support/harness.js';

function selfSigned(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return { cert, key };
}

function httpsGet(url: string, ca: Buffer | undefined, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Settles on the first CONNACK or the first failure; mqtt.js only closes on some TLS failures. */
function mqttConnect(url: string, opts: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
    c.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

describe('TLS for HTTP and the embedded MQTT broker', () => {
  let h: Harness;
  let dir: string;
  let ca: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pickwire-tls-'));
    const { cert, key } = selfSigned(dir);
    ca = readFileSync(cert);
    h = await startHarness({ simulate: false, env: { PICKWIRE_TLS_CERT_FILE: cert, PICKWIRE_TLS_KEY_FILE: key } });
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the API over HTTPS to a client that trusts the certificate, and only to one', async () => {
    expect(h.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${h.baseUrl}/api/v1/me`, ca, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ name: 'admin', role: 'admin' });
    await expect(httpsGet(`${h.baseUrl}/api/v1/me`, undefined, ADMIN_TOKEN)).rejects.toThrow(/self[- ]signed/i);
  });

  it('runs the embedded broker over TLS; the core itself is connected through it', async () => {
    expect(h.core.mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect((await httpsGet(`${h.baseUrl}/readyz`, ca, ADMIN_TOKEN)).status).toBe(200);

    const client = await mqttConnect(h.core.mqttUrl, { ca, clientId: 'tls-probe' });
    const seen = new Promise<string>((resolve) => client.once('message', (topic) => resolve(topic)));
    await client.subscribeAsync(`wcs/v1/${h.core.layout.site.id}/core/state`, { qos: 1 });
    expect(await seen).toBe(`wcs/v1/${h.core.layout.site.id}/core/state`);
    await client.endAsync();

    await expect(mqttConnect(h.core.mqttUrl, { clientId: 'tls-untrusting' })).rejects.toThrow(/self[- ]signed/i);
    const plain = h.core.mqttUrl.replace('mqtts:', 'mqtt:');
    await expect(mqttConnect(plain, { clientId: 'tls-plain' })).rejects.toThrow();
  });
});
