/**
 * The Grafana dashboard (dashboards/grafana/) reads what the core writes: every measurement,
 * field and tag its Flux queries name is one TelemetryRecorder emits when driven the way the
 * core drives it, its datasource is the provisioned one, and docker-compose.yml mounts both the
 * provisioning and the dashboard where the provisioning looks for them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VDA_SAMPLES } from '../protocols/testdata/vda5050-samples.js';
import { WCS_V1_SAMPLES } from '../protocols/testdata/wcs-v1-samples.js';
import type { TelemetryPoint, TelemetrySink } from '../src/ports.js';
import { DeviceRegistry } from '../src/app/device-registry.js';
import { TelemetryRecorder } from '../src/app/telemetry-recorder.js';

const root = new URL('../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

interface FluxRefs {
  measurements: string[];
  fields: string[];
  /** Tag keys used in filters (`r.site`) and in group columns. */
  tags: string[];
}

/** The names a Flux query reads; `_`-prefixed columns are InfluxDB's own. */
function fluxRefs(query: string): FluxRefs {
  const all = (re: RegExp): string[] => [...query.matchAll(re)].map((m) => m[1] as string);
  const grouped = all(/group\(columns:\s*\[([^\]]*)\]/g).flatMap((cols) => [...cols.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string));
  return {
    measurements: all(/r\._measurement\s*==\s*"([^"]+)"/g),
    fields: all(/r\._field\s*==\s*"([^"]+)"/g),
    tags: [...all(/\br\.([A-Za-z][A-Za-z0-9_]*)/g), ...grouped].filter((t) => !t.startsWith('_')),
  };
}

interface Panel {
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: { refId: string; query: string; datasource?: { type: string; uid: string } }[];
}

const dashboardFiles = readdirSync(new URL('dashboards/grafana/dashboards/', root)).filter((f) => f.endsWith('.json'));
const dashboards = dashboardFiles.map((f) => ({ file: f, json: JSON.parse(read(`dashboards/grafana/dashboards/${f}`)) as { uid: string; panels: Panel[]; templating?: { list: { query: string; datasource?: { uid: string } }[] } } }));

/** What the core writes: a recorder driven as src/core.ts drives it, over real registry views. */
function emittedSchema(): Map<string, { fields: Set<string>; tags: Set<string> }> {
  const points: TelemetryPoint[] = [];
  const sink: TelemetrySink = { write: (p) => void points.push(p), flush: async () => undefined, close: async () => undefined };
  let now = 1_700_000_000_000;
  const rec = new TelemetryRecorder({ sink, site: 'demo', now: () => now });
  const registry = new DeviceRegistry({ watchdogMs: 15_000 });
  registry.declare('amr-1', 'amr', { manufacturer: 'acme', serialNumber: 'amr-1' });
  const state = { ...VDA_SAMPLES.state, manufacturer: 'acme', serialNumber: 'amr-1' };
  // Two samples a second apart at different positions: the second carries a derived speed.
  for (const x of [1, 3]) {
    const view = registry.onVdaState('amr-1', { ...state, agvPosition: { ...state.agvPosition!, x } }, now);
    rec.recordDevice(view, registry.status(view, now));
    now += 1500;
  }
  for (const deviceClass of ['asrs', 'conveyor', 'arm'] as const) {
    const id = `${deviceClass}-1`;
    registry.declare(id, deviceClass);
    registry.onWcsTelemetry(id, deviceClass, { ...WCS_V1_SAMPLES.telemetry, header: { ...WCS_V1_SAMPLES.telemetry.header, deviceId: id } }, now);
    const view = registry.get(id)!;
    rec.recordDevice(view, registry.status(view, now));
  }
  rec.recordOrderAccepted('web');
  rec.recordLinePicked('amr', 2);
  rec.flushCounters();
  const schema = new Map<string, { fields: Set<string>; tags: Set<string> }>();
  for (const p of points) {
    const s = schema.get(p.measurement) ?? { fields: new Set<string>(), tags: new Set<string>() };
    for (const f of Object.keys(p.fields)) s.fields.add(f);
    for (const t of Object.keys(p.tags)) s.tags.add(t);
    schema.set(p.measurement, s);
  }
  return schema;
}

describe('Grafana dashboard', () => {
  const schema = emittedSchema();
  const datasources = read('dashboards/grafana/provisioning/datasources/influxdb.yaml');
  const provisionedUid = /^\s*uid:\s*(\S+)/m.exec(datasources)?.[1];

  it('exists and has Flux queries on every panel', () => {
    expect(dashboards.length).toBeGreaterThan(0);
    for (const { json } of dashboards) {
      expect(json.panels.length).toBeGreaterThan(0);
      for (const p of json.panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('reads only measurements, fields and tags the telemetry recorder writes', () => {
    // The recorder's own output, for the record: the dashboard must stay within it.
    expect([...schema.keys()].sort()).toEqual(['device', 'lines', 'orders']);
    expect([...schema.get('device')!.fields]).toEqual(expect.arrayContaining(['battery', 'busy', 'charging', 'errors', 'x', 'y', 'speed']));
    for (const { file, json } of dashboards) {
      for (const panel of json.panels) {
        for (const target of panel.targets ?? []) {
          const refs = fluxRefs(target.query);
          const where = `${file} / ${panel.title} / ${target.refId}`;
          expect(refs.measurements, `${where}: names a measurement`).toHaveLength(1);
          const m = schema.get(refs.measurements[0]!);
          expect(m, `${where}: measurement ${refs.measurements[0]} is written`).toBeDefined();
          expect(refs.fields.length, `${where}: names a field`).toBeGreaterThan(0);
          for (const f of refs.fields) expect(m!.fields.has(f), `${where}: field ${f} of ${refs.measurements[0]} is written`).toBe(true);
          for (const t of refs.tags) expect(m!.tags.has(t), `${where}: tag ${t} of ${refs.measurements[0]} is written`).toBe(true);
          expect(target.query).toContain('from(bucket: v.defaultBucket)');
        }
      }
    }
  });

  it('uses the provisioned InfluxDB datasource everywhere, and a template tag every measurement carries', () => {
    expect(datasources).toMatch(/type:\s*influxdb/);
    expect(datasources).toMatch(/version:\s*Flux/);
    expect(provisionedUid).toBeDefined();
    for (const { json } of dashboards) {
      for (const panel of json.panels) {
        expect(panel.datasource?.uid, panel.title).toBe(provisionedUid);
        for (const t of panel.targets ?? []) if (t.datasource) expect(t.datasource.uid).toBe(provisionedUid);
      }
      for (const v of json.templating?.list ?? []) {
        const tag = /tag:\s*"([^"]+)"/.exec(v.query)?.[1];
        expect(tag).toBeDefined();
        for (const [name, m] of schema) expect(m.tags.has(tag!), `${name} carries tag ${tag}`).toBe(true);
      }
    }
  });

  it('is provisioned by docker-compose.yml: both folders mounted where the provisioning looks', () => {
    const provider = read('dashboards/grafana/provisioning/dashboards/pickwire.yaml');
    const dashboardPath = /^\s*path:\s*(\S+)/m.exec(provider)?.[1];
    expect(dashboardPath).toBeDefined();
    const compose = read('docker-compose.yml');
    expect(compose).toContain('./dashboards/grafana/provisioning:/etc/grafana/provisioning');
    expect(compose).toContain(`./dashboards/grafana/dashboards:${dashboardPath}`);
    // The home dashboard setting names a file that is mounted.
    const home = /GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH:\s*(\S+)/.exec(compose)?.[1];
    if (home !== undefined) expect(dashboardFiles.map((f) => `${dashboardPath}/${f}`)).toContain(home);
    // The datasource's variables are given to the grafana service.
    for (const v of ['INFLUX_URL', 'INFLUX_ORG', 'INFLUX_BUCKET', 'INFLUX_TOKEN']) expect(datasources).toContain(`\${${v}}`);
    const grafana = compose.slice(compose.indexOf('\n  grafana:'));
    for (const v of ['INFLUX_URL', 'INFLUX_ORG', 'INFLUX_BUCKET', 'INFLUX_TOKEN']) expect(grafana).toMatch(new RegExp(`\\n\\s+${v}:`));
    // Debian's docker-compose, when installed, validates the whole file (it is not installed by the tests).
    const composeBin = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => existsSync(p));
    if (composeBin) expect(() => execFileSync(composeBin, ['config', '-q'], { cwd: new URL('.', root), stdio: 'pipe', timeout: 30_000 })).not.toThrow();
  });
});
