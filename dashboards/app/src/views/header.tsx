/** Site name, the headline KPIs, the stream's state and who is signed in. */
import { signOut } from '../live.js';
import { canReadFloor, kpis, me, navigate, site, streamState } from '../state.js';
import { ms, num } from '../format.js';

const DEVICE_STATES: readonly { key: string; label: string; tone: string }[] = [
  { key: 'busy', label: 'busy', tone: 'busy' },
  { key: 'idle', label: 'idle', tone: 'good' },
  { key: 'paused', label: 'paused', tone: 'warn' },
  { key: 'error', label: 'error', tone: 'bad' },
  { key: 'offline', label: 'offline', tone: 'bad' },
  { key: 'stale', label: 'stale', tone: 'bad' },
  { key: 'out-of-service', label: 'out of service', tone: 'bad' },
  { key: 'unknown', label: 'unknown', tone: 'muted' },
];

function Tile(props: { label: string; value: string; sub?: string; tone?: string; title?: string; onClick?: () => void; id?: string }) {
  const body = (
    <>
      <span class="tile-label">{props.label}</span>
      <span class={`tile-value ${props.tone ? `tone-${props.tone}` : ''}`} id={props.id}>
        {props.value}
      </span>
      {props.sub ? <span class="tile-sub">{props.sub}</span> : null}
    </>
  );
  return props.onClick ? (
    <button type="button" class="tile" title={props.title} onClick={props.onClick}>
      {body}
    </button>
  ) : (
    <div class="tile" title={props.title}>
      {body}
    </div>
  );
}

function Kpis() {
  const k = kpis.value;
  if (!k) return <div class="tiles muted">KPIs loading…</div>;
  const since = new Date(k.window.since).getTime();
  const partial = Date.now() - since < k.window.minutes * 60_000 - 60_000;
  const windowNote = partial ? `since ${new Date(since).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : 'last hour';
  const byState = Object.entries(k.orders.byState)
    .sort((a, b) => b[1] - a[1])
    .map(([s, n]) => `${s} ${n}`)
    .join(' · ');
  const byType = Object.entries(k.exceptions.byType)
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${t} ${n}`)
    .join(' · ');
  const devices = DEVICE_STATES.filter((s) => (k.devices.byState[s.key] ?? 0) > 0);
  return (
    <div class="tiles" aria-label="Key figures">
      <Tile label="Orders/h" value={num(k.throughput.ordersPerHour)} sub={`${num(k.throughput.ordersReceivedPerHour)} in · ${windowNote}`} title="Orders with every line picked in the window; 'in' counts orders received" id="kpi-orders-h" />
      <Tile label="Lines/h" value={num(k.throughput.linesPerHour)} sub={`${num(k.throughput.unitsPerHour)} units`} title="Order lines picked in the window" id="kpi-lines-h" />
      <Tile label="Open orders" value={num(k.orders.open)} sub={byState || 'none'} title={byState} onClick={() => navigate('orders')} id="kpi-open" />
      <Tile
        label="Late / at risk"
        value={`${num(k.orders.late)} / ${num(k.orders.atRisk)}`}
        tone={k.orders.late > 0 ? 'bad' : k.orders.atRisk > 0 ? 'warn' : undefined}
        sub={`passed / due ≤ ${k.orders.atRiskWithinMinutes} min`}
        id="kpi-late"
      />
      <div class="tile tile-devices" title="Devices by state">
        <span class="tile-label">Devices ({k.devices.total})</span>
        <span class="chips">
          {devices.map((s) => (
            <span key={s.key} class={`chip tone-${s.tone}`}>
              {k.devices.byState[s.key]} {s.label}
            </span>
          ))}
        </span>
      </div>
      <Tile
        label="Exceptions"
        value={num(k.exceptions.open)}
        tone={k.exceptions.open > 0 ? 'warn' : undefined}
        sub={byType || 'none open'}
        title={byType}
        onClick={() => navigate('exceptions')}
        id="kpi-exceptions"
      />
      <Tile label="Dispatch p95" value={ms(k.dispatchLatency.p95Ms)} sub={`p50 ${ms(k.dispatchLatency.p50Ms)} · ${num(k.dispatchLatency.count)} tasks`} title="Time from a task becoming dispatchable to its dispatch" id="kpi-dispatch" />
    </div>
  );
}

export function Header() {
  const state = streamState.value;
  const who = me.value;
  return (
    <header class="top">
      <div class="brand">
        <span class="logo" aria-hidden="true">
          ◆
        </span>
        <div>
          <h1>Pickwire</h1>
          <span class="muted site-name">{site.value?.name ?? ''}</span>
        </div>
      </div>
      {canReadFloor.value ? <Kpis /> : <div class="tiles" />}
      <div class="session">
        {canReadFloor.value ? (
          <span class={`pill ${state === 'live' ? 'pill-on' : state === 'connecting' ? 'pill-wait' : 'pill-off'}`} id="stream-state" title="Live stream">
            {state}
          </span>
        ) : null}
        <span class="who" title="Signed in as">
          {who?.name} · <strong id="role">{who?.role}</strong>
        </span>
        <button type="button" class="btn btn-quiet" onClick={() => signOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}
