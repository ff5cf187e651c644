import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLayoutReferences, parseSiteLayout } from '../../src/index.js';
import { formatLayoutJson, generateDemoLayout } from './generate-demo.js';

const path = fileURLToPath(new URL('./demo.json', import.meta.url));
const text = readFileSync(path, 'utf8');

describe('bundled demo layout', () => {
  const layout = parseSiteLayout(JSON.parse(text), 'demo.json');

  it('passes the schema and the cross-reference checks', () => {
    expect(checkLayoutReferences(layout)).toEqual([]);
  });

  it('is exactly what the seeded generator writes', () => {
    expect(text).toBe(`${formatLayoutJson(generateDemoLayout(1))}\n`);
  });

  it('has the devices and stations the demo needs', () => {
    expect(layout.site).toMatchObject({ id: 'demo', mapId: 'demo-floor' });
    expect(layout.devices.amrs.length).toBeGreaterThanOrEqual(10);
    expect(new Set(layout.devices.amrs.map((a) => a.startNode)).size).toBe(layout.devices.amrs.length);
    expect(layout.devices.asrs[0]?.ports.map((p) => p.id)).toEqual(['asrs-1-p1', 'asrs-1-p2']);
    expect(layout.stations.filter((s) => s.kind === 'arm').map((s) => s.id)).toEqual(['arm-st-1', 'arm-st-2']);
    expect(layout.stations.filter((s) => s.kind === 'pack')).toHaveLength(1);
    expect(layout.chargers.length).toBeGreaterThanOrEqual(3);
    expect(layout.devices.conveyors[0]?.stops.map((s) => s.id).sort()).toEqual(['arm-st-1', 'arm-st-2', 'asrs-1-p1', 'asrs-1-p2']);
  });

  it('stores 500 SKUs, one per location, split between the AMR zone and the AS/RS', () => {
    expect(layout.skus).toHaveLength(500);
    const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
    const zones = layout.stock.map((s) => zoneOf.get(s.location));
    expect(zones.filter((z) => z === 'amr')).toHaveLength(250);
    expect(zones.filter((z) => z === 'asrs')).toHaveLength(250);
    expect(new Set(layout.stock.map((s) => s.location)).size).toBe(layout.stock.length);
    expect(new Set(layout.stock.map((s) => s.sku)).size).toBe(500);
    for (const s of layout.stock) {
      expect(s.onHand).toBeGreaterThanOrEqual(40);
      expect(s.onHand).toBeLessThanOrEqual(200);
    }
  });
});
