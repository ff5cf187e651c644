/** The floor: the map, the selected device's panel, the charts, and on a wall screen the queue too. */
import { useEffect, useRef } from 'preact/hooks';
import { onDeviceUpdate, onDevicesReset } from '../live.js';
import { COLORS, FloorMap } from '../map/floor-map.js';
import { devices, selectedDevice, site, tasks, tasksVersion } from '../state.js';
import { Charts } from './charts.js';
import { DevicePanel } from './device-panel.js';
import { QueueSummary } from './exceptions-view.js';

const LEGEND: [string, string][] = [
  ['idle', COLORS.state.idle],
  ['busy', COLORS.state.busy],
  ['charging', COLORS.state.charging],
  ['paused', COLORS.state.paused],
  ['error / offline', COLORS.state.bad],
  ['unknown', COLORS.state.unknown],
];

function MapCanvas() {
  const canvas = useRef<HTMLCanvasElement>(null);
  const map = useRef<FloorMap | null>(null);
  const layout = site.value?.layout ?? null;
  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const m = new FloorMap(el, { onSelect: (id) => (selectedDevice.value = id) });
    map.current = m;
    m.setLayout(site.peek()?.layout ?? null);
    m.resetDevices(devices.values());
    m.setTasks(tasks.values());
    m.setSelected(selectedDevice.peek());
    const offUpdate = onDeviceUpdate((d, at) => m.updateDevice(d, at));
    const offReset = onDevicesReset(() => m.resetDevices(devices.values()));
    const offTasks = tasksVersion.subscribe(() => m.setTasks(tasks.values()));
    const offSel = selectedDevice.subscribe((id) => m.setSelected(id));
    window.pickwire = { ...window.pickwire, map: m };
    return () => {
      offUpdate();
      offReset();
      offTasks();
      offSel();
      m.destroy();
      map.current = null;
    };
  }, []);
  useEffect(() => {
    map.current?.setLayout(layout);
  }, [layout]);
  return (
    <div class="map-wrap">
      <canvas
        ref={canvas}
        id="floor-map"
        class="map"
        tabIndex={0}
        role="application"
        aria-roledescription="floor map"
        aria-label="Floor map. Arrow keys pan, plus and minus zoom, 0 fits, n and p select the next or previous device, Escape clears the selection."
      />
      <div class="map-tools" role="group" aria-label="Map view">
        <button type="button" class="btn btn-quiet" onClick={() => map.current?.zoom(1.25)} aria-label="Zoom in">
          +
        </button>
        <button type="button" class="btn btn-quiet" onClick={() => map.current?.zoom(0.8)} aria-label="Zoom out">
          −
        </button>
        <button type="button" class="btn btn-quiet" onClick={() => map.current?.fit()} aria-label="Fit the site">
          Fit
        </button>
      </div>
      <p class="legend" aria-label="Legend">
        {LEGEND.map(([label, color]) => (
          <span key={label}>
            <i class="dot" style={{ background: color }} /> {label}
          </span>
        ))}
        <span>
          <i class="sq" style={{ background: COLORS.station }} /> station
        </span>
        <span>
          <i class="sq diamond" style={{ background: COLORS.charger }} /> charger
        </span>
        <span>
          <i class="sq" style={{ background: COLORS.tote }} /> tote / port (queue)
        </span>
        <span class="muted">equipment right of the graph is schematic</span>
      </p>
    </div>
  );
}

export function FloorView() {
  const sel = selectedDevice.value;
  return (
    <div class="floor">
      <section class="panel map-panel" aria-label="Floor map">
        <MapCanvas />
      </section>
      <aside class="side">
        {sel ? <DevicePanel id={sel} onClose={() => (selectedDevice.value = null)} /> : <p class="panel muted hint">Click a robot or a machine on the map (or press n in the map) for its panel and commands.</p>}
        <Charts />
      </aside>
      <aside class="wall-only">
        <QueueSummary />
      </aside>
    </div>
  );
}
