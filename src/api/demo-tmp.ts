// Temporary local demo server for a browser check; deleted after use.
import { readFileSync } from 'node:fs';
import type { FastifyPluginCallback } from 'fastify';
import { buildApp } from './app.js';
import { createLocalNotifier } from './stream.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { parseTokens } from '../tokens.js';

interface Layout { site: { id: string; name: string }; graph: { nodes: { id: string; x: number; y: number }[]; edges: unknown[] }; stations: unknown[]; chargers: unknown[]; devices: { amrs: { serialNumber: string; startNode: string }[] } }
const layout = JSON.parse(readFileSync(new URL('../../simulators/sites/demo.json', import.meta.url), 'utf8')) as Layout;
const nodes = new Map(layout.graph.nodes.map((n) => [n.id, n]));
const devices = layout.devices.amrs.map((a, i) => ({ id: a.serialNumber, class: 'amr', state: i % 3 === 0 ? 'IDLE' : 'DRIVING', battery: 80 - i, position: { x: nodes.get(a.startNode)?.x ?? 0, y: nodes.get(a.startNode)?.y ?? 0, theta: 0 } }));
devices.push({ id: 'asrs-1', class: 'asrs', state: 'RUNNING', battery: undefined as unknown as number, position: undefined as unknown as { x: number; y: number; theta: number } });
const orders = [{ id: 'o-1', externalId: 'shop-1001', status: 'OPEN', createdAt: new Date().toISOString(), lines: [{ id: 'l-1', sku: 'SKU-1', quantity: 2, state: 'PICKING' }] }];
const routes: FastifyPluginCallback = (app, _o, done) => {
  app.get('/orders', () => ({ items: orders, nextCursor: null }));
  app.get('/devices', () => ({ items: devices }));
  app.get('/sites', () => ({ items: [{ id: layout.site.id, name: layout.site.name, layout }] }));
  done();
};
const notifier = createLocalNotifier();
const app = buildApp({ config: loadConfig({ argv: [], env: {}, cwd: '/tmp/pwdemo' }), logger: createLogger({ level: 'warn' }), tokens: parseTokens('root:admin:demo-token-123'), metrics: createMetrics(), readiness: () => ({ ready: true, reasons: [] }), notifier, snapshot: () => ({ site: { id: 'demo', name: layout.site.name }, devices, linesByState: { PICKING: 1 } }), routes: [routes] });
await app.listen({ port: 18080, host: '127.0.0.1' });
let t = 0;
setInterval(() => {
  t++;
  for (const d of devices) if (d.position) { d.position = { x: d.position.x + 0.2, y: d.position.y, theta: 0 }; notifier.publish({ type: 'device.updated', at: Date.now(), data: { ...d } }); }
  if (t % 10 === 0) notifier.publish({ type: 'order.updated', at: Date.now(), data: { id: 'o-1', status: 'OPEN', lines: [{ id: 'l-1', sku: 'SKU-1', quantity: 2, state: 'PICKED' }] } });
}, 200);
console.log('listening');
