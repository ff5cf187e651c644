/** Every device in a table (the keyboard way to any device), and the selected one's panel. */
import { useState } from 'preact/hooks';
import { battery, dateTime, tone } from '../format.js';
import { devices, devicesVersion, navigate, route } from '../state.js';
import { DevicePanel } from './device-panel.js';

export function DevicesView() {
  void devicesVersion.value;
  const [filter, setFilter] = useState('');
  const [cls, setCls] = useState('');
  const selected = route.value.id;
  const f = filter.trim().toLowerCase();
  const rows = [...devices.values()]
    .filter((d) => (!cls || d.class === cls) && (!f || d.id.toLowerCase().includes(f) || d.state.toLowerCase().includes(f)))
    .sort((a, b) => a.class.localeCompare(b.class) || a.id.localeCompare(b.id));
  return (
    <div class="split">
      <section class="panel" aria-labelledby="devices-title">
        <header class="panel-head">
          <h2 id="devices-title">
            Devices <span class="muted">({rows.length})</span>
          </h2>
          <div class="row">
            <label class="sr-only" for="device-filter">
              Filter devices
            </label>
            <input id="device-filter" type="search" placeholder="Filter by id or state" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
            <label class="sr-only" for="device-class">
              Class
            </label>
            <select id="device-class" value={cls} onChange={(e) => setCls((e.target as HTMLSelectElement).value)}>
              <option value="">all classes</option>
              <option value="amr">AMRs</option>
              <option value="asrs">AS/RS</option>
              <option value="conveyor">conveyors</option>
              <option value="arm">arms</option>
            </select>
          </div>
        </header>
        <div class="table-scroll">
          <table class="grid" id="devices-table">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Class</th>
                <th scope="col">State</th>
                <th scope="col">Battery</th>
                <th scope="col">Position</th>
                <th scope="col">Task</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id} class={selected === d.id ? 'selected' : ''} data-device={d.id}>
                  <td>
                    <button type="button" class="link" onClick={() => navigate('devices', d.id)} aria-pressed={selected === d.id}>
                      {d.id}
                    </button>
                  </td>
                  <td>{d.class}</td>
                  <td>
                    <span class={`state tone-${tone(d.state)}`}>{d.state}</span>
                    {d.charging ? <span class="muted small"> charging</span> : null}
                  </td>
                  <td>{battery(d.battery)}</td>
                  <td>{d.position ? `${d.position.x.toFixed(1)}, ${d.position.y.toFixed(1)}` : '–'}</td>
                  <td>{d.task ?? '–'}</td>
                  <td>{dateTime(d.lastSeenAt ?? null)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <aside class="side">{selected ? <DevicePanel id={selected} onClose={() => navigate('devices')} /> : <p class="panel muted hint">Choose a device for its panel and commands.</p>}</aside>
    </div>
  );
}
