/** Orders: search by id, external id or customer; the chosen order's lines, holds, promise, ETA and timeline. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, apiMaybe, enc } from '../api.js';
import { loadHolds } from '../live.js';
import { dateTime, relative, time, tone } from '../format.js';
import { canActOnFloor, canCancelOrders, navigate, orderTouched, recentOrders, route } from '../state.js';
import type { Eta, Hold, Order, Page, TimelineEvent } from '../types.js';
import { ActionForm } from './action-form.js';
import { cancelOrder } from './exceptions-view.js';

const STATUSES = ['', 'OPEN', 'CLOSED', 'CANCELED', 'REJECTED', 'SOURCED', 'RELEASED', 'PICKING', 'PICKED', 'BACKORDERED', 'UNROUTABLE'];

/** Order ids look like O-00000042; a bare number is tried as one too. */
function idCandidates(q: string): string[] {
  if (/^O-\d+$/i.test(q)) return [q.toUpperCase()];
  if (/^\d{1,8}$/.test(q)) return [`O-${q.padStart(8, '0')}`];
  return [];
}

async function search(q: string, status: string): Promise<Order[]> {
  const st = status ? `&status=${enc(status)}` : '';
  if (!q) return (await api<Page<Order>>(`/orders?limit=100${st}`)).items;
  const [byId, byExternal, byCustomer] = await Promise.all([
    Promise.all(idCandidates(q).map((id) => apiMaybe<Order>(`/orders/${enc(id)}`))),
    api<Page<Order>>(`/orders?limit=100&externalId=${enc(q)}${st}`),
    api<Page<Order>>(`/orders?limit=100&customer=${enc(q)}${st}`),
  ]);
  const seen = new Set<string>();
  const out: Order[] = [];
  const direct = byId.filter((o): o is Order => o !== undefined && (!status || o.status === status || o.fulfilment === status));
  for (const o of [...direct, ...byExternal.items, ...byCustomer.items]) {
    if (seen.has(o.id)) continue;
    seen.add(o.id);
    out.push(o);
  }
  return out;
}

function etaOf(o: Order): Eta | null {
  if (!o.eta) return null;
  return typeof o.eta === 'string' ? { deliversBy: o.eta } : o.eta;
}

function earliestPromise(o: Order): string | null {
  const dates = o.lines.map((l) => l.promiseDate).filter((d): d is string => Boolean(d));
  return dates.sort()[0] ?? null;
}

function OrderList({ orders, selected, caption }: { orders: Order[]; selected: string | undefined; caption: string }) {
  return (
    <div class="table-scroll">
      <table class="grid" id="orders-table">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Order</th>
            <th scope="col">External id</th>
            <th scope="col">Customer</th>
            <th scope="col">Status</th>
            <th scope="col">Lines</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {orders.map((o) => (
            <tr key={o.id} class={selected === o.id ? 'selected' : ''} data-order={o.id}>
              <td>
                <button type="button" class="link" onClick={() => navigate('orders', o.id)} aria-pressed={selected === o.id}>
                  {o.id}
                </button>
              </td>
              <td>{o.externalId ?? '–'}</td>
              <td>{o.customer?.id ?? '–'}</td>
              <td>
                <span class={`state tone-${tone(o.fulfilment)}`}>{o.fulfilment}</span>
                {o.status !== 'OPEN' ? <span class="muted small"> {o.status}</span> : null}
                {o.holds?.some((h) => h.status === 'open') ? <span class="badge tone-bad">hold</span> : null}
              </td>
              <td>{o.lines.length}</td>
              <td>{dateTime(o.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {orders.length === 0 ? <p class="muted">No orders match.</p> : null}
    </div>
  );
}

function summary(data: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
    parts.push(`${k} ${String(v)}`);
    if (parts.length >= 5) break;
  }
  return parts.join(' · ');
}

function HoldRow({ h, onChange }: { h: Hold; onChange: () => void }) {
  const open = h.status === 'open';
  return (
    <li data-hold={h.id}>
      <span class={`badge tone-${open ? 'bad' : 'good'}`}>
        {h.type} {h.status}
      </span>{' '}
      {h.reason}
      {h.resolvedBy ? (
        <span class="muted small">
          {' '}
          by {h.resolvedBy} {relative(h.resolvedAt)}
          {h.note ? `: ${h.note}` : ''}
        </span>
      ) : null}
      {open && canActOnFloor.value ? (
        <div class="actions">
          <ActionForm
            id="release-hold"
            label="Release"
            field="Note"
            run={async (note) => {
              await api(`/holds/${enc(h.id)}/release`, { method: 'POST', body: note ? { note } : {} });
              onChange();
              void loadHolds();
              return `Hold ${h.id} released`;
            }}
          />
          <ActionForm
            id="reject-hold"
            label="Reject"
            field="Reason"
            required
            danger
            confirmLabel="Reject and cancel the order"
            run={async (reason) => {
              await api(`/holds/${enc(h.id)}/reject`, { method: 'POST', body: { reason } });
              onChange();
              void loadHolds();
              return `Hold ${h.id} rejected`;
            }}
          />
        </div>
      ) : null}
    </li>
  );
}

function OrderDetail({ id }: { id: string }) {
  const [order, setOrder] = useState<Order | null | undefined>(undefined);
  const [events, setEvents] = useState<TimelineEvent[]>([]);
  const [error, setError] = useState('');
  const [n, setN] = useState(0);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => {
    let live = true;
    Promise.all([apiMaybe<Order>(`/orders/${enc(id)}`), apiMaybe<{ events: TimelineEvent[] }>(`/orders/${enc(id)}/timeline`)]).then(
      ([o, t]) => {
        if (!live) return;
        setOrder(o ?? null);
        setEvents(t?.events ?? []);
        setError('');
      },
      (err: unknown) => live && setError((err as Error).message),
    );
    return () => {
      live = false;
    };
  }, [id, n]);
  // Live: any event about this order refetches it, at most twice a second.
  useEffect(
    () =>
      orderTouched.subscribe((t) => {
        if (t.id !== id || timer.current !== undefined) return;
        timer.current = window.setTimeout(() => {
          timer.current = undefined;
          setN((x) => x + 1);
        }, 500);
      }),
    [id],
  );
  useEffect(() => () => window.clearTimeout(timer.current), []);
  if (error) return <p class="error">{error}</p>;
  if (order === undefined) return <p class="muted">Loading {id}…</p>;
  if (order === null) return <p class="muted">No order {id}.</p>;
  const eta = etaOf(order);
  const linePick = new Map((eta?.lines ?? []).map((l) => [l.id, l.pickedBy]));
  const promise = earliestPromise(order);
  const cancellable = order.status === 'OPEN' && order.lines.some((l) => !['SHIPPED', 'DELIVERED', 'CANCELED'].includes(l.state));
  const refresh = () => setN((x) => x + 1);
  return (
    <article class="order-detail" aria-labelledby="order-title" data-order={order.id}>
      <header class="panel-head">
        <h2 id="order-title">
          {order.id} <span class={`state tone-${tone(order.fulfilment)}`}>{order.fulfilment}</span> <span class="muted small">{order.status}</span>
        </h2>
        <button type="button" class="btn btn-quiet" onClick={() => navigate('orders')} aria-label="Close order">
          ✕
        </button>
      </header>
      <dl class="facts cols">
        <div>
          <dt>External id</dt>
          <dd>{order.externalId ?? '–'}</dd>
        </div>
        <div>
          <dt>Channel</dt>
          <dd>{order.channel}</dd>
        </div>
        <div>
          <dt>Customer</dt>
          <dd>
            {order.customer.id}
            {order.customer.email ? ` (${order.customer.email})` : ''}
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{dateTime(order.createdAt)}</dd>
        </div>
        <div>
          <dt>Promised</dt>
          <dd title="Earliest line promise (delivery)">
            {promise ? `${dateTime(promise)} (${relative(promise)})` : (order.promisedBy ? dateTime(order.promisedBy) : '–')}
          </dd>
        </div>
        <div>
          <dt>Predicted</dt>
          <dd id="order-eta" title="The core's live ETA">
            {eta ? [eta.pickedBy ? `picked ${time(eta.pickedBy)}` : '', eta.shipsAt ? `ships ${dateTime(eta.shipsAt)}` : '', eta.deliversBy ? `delivered ${dateTime(eta.deliversBy)}` : ''].filter(Boolean).join(' · ') || '–' : '–'}
          </dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd>{order.priority}</dd>
        </div>
      </dl>
      {cancellable && canCancelOrders.value ? (
        <div class="actions">
          <ActionForm
            id="cancel-order"
            label="Cancel order"
            field="Reason"
            required
            danger
            run={async (reason) => {
              const msg = await cancelOrder(order.id, reason);
              refresh();
              return msg;
            }}
          />
        </div>
      ) : null}
      <h3>Lines</h3>
      <div class="table-scroll">
        <table class="grid" id="order-lines">
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">SKU</th>
              <th scope="col">Qty</th>
              <th scope="col">Picked</th>
              <th scope="col">State</th>
              <th scope="col">Site / location</th>
              <th scope="col">Promise</th>
              <th scope="col">Predicted pick</th>
            </tr>
          </thead>
          <tbody>
            {order.lines.map((l) => (
              <tr key={l.id}>
                <td>{l.id}</td>
                <td>{l.sku}</td>
                <td>{l.quantity}</td>
                <td>{l.picked ?? '–'}</td>
                <td>
                  <span class={`state tone-${tone(l.state)}`}>{l.state}</span>
                  {l.attempts ? <span class="muted small"> try {l.attempts + 1}</span> : null}
                </td>
                <td>{[l.site, l.location].filter(Boolean).join(' / ') || '–'}</td>
                <td>{dateTime(l.promiseDate ?? null)}</td>
                <td>{time(linePick.get(l.id) ?? null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {order.holds.length > 0 ? (
        <>
          <h3>Holds</h3>
          <ul class="holds">
            {order.holds.map((h) => (
              <HoldRow key={h.id} h={h} onChange={refresh} />
            ))}
          </ul>
        </>
      ) : null}
      <h3>
        Timeline <span class="muted">({events.length})</span>
      </h3>
      <ol class="timeline" id="order-timeline">
        {events.map((e) => (
          <li key={e.seq}>
            <time dateTime={e.at}>{time(e.at)}</time>
            <span class="ev-type">{e.type}</span>
            <span class="muted small">
              {e.aggregateType !== 'order' ? `${e.aggregateId} ` : ''}
              {e.actor ? `by ${e.actor} ` : ''}
              {summary(e.data)}
            </span>
          </li>
        ))}
      </ol>
    </article>
  );
}

export function OrdersView() {
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const [results, setResults] = useState<Order[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const selected = route.value.view === 'orders' ? route.value.id : undefined;
  const run = async (e?: Event) => {
    e?.preventDefault();
    const query = q.trim();
    if (!query && !status) {
      setResults(null);
      return;
    }
    setBusy(true);
    setError('');
    try {
      const found = await search(query, status);
      setResults(found);
      if (found.length === 1 && found[0]) navigate('orders', found[0].id);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const list = results ?? recentOrders.value;
  return (
    <div class="split orders">
      <section class="panel" aria-labelledby="orders-title">
        <header class="panel-head">
          <h2 id="orders-title">Orders {results === null ? <span class="muted">(latest, live)</span> : <span class="muted">({list.length} found)</span>}</h2>
        </header>
        <form class="search row" role="search" onSubmit={(e) => void run(e)}>
          <label class="sr-only" for="order-search">
            Order id, external id or customer
          </label>
          <input id="order-search" type="search" placeholder="Order id, external id or customer" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
          <label class="sr-only" for="order-status">
            Status
          </label>
          <select id="order-status" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'any status'}
              </option>
            ))}
          </select>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Search
          </button>
          {results !== null ? (
            <button
              type="button"
              class="btn btn-quiet"
              onClick={() => {
                setQ('');
                setStatus('');
                setResults(null);
              }}
            >
              Clear
            </button>
          ) : null}
        </form>
        {error ? <p class="error">{error}</p> : null}
        <OrderList orders={list} selected={selected} caption="Orders" />
      </section>
      <section class="panel detail">{selected ? <OrderDetail key={selected} id={selected} /> : <p class="muted hint">Search, or choose an order for its lines, holds, promise, ETA and timeline.</p>}</section>
    </div>
  );
}
