/* global document, window, setTimeout */
// The operator page: sign-in, counters, devices, orders and the floor map, kept live by the stream.
import { AuthError, clearToken, getJson, getToken, openStream, setToken, takeTokenFromUrl } from './api.js';
import { amrTone, createFloorMap } from './map.js';

const $ = (id) => document.getElementById(id);

const state = {
  devices: new Map(),
  orders: new Map(),
  linesByState: undefined,
  stream: undefined,
};

let map;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function tone(s) {
  const t = String(s ?? '').toUpperCase();
  if (/REJECT|CANCEL|FAIL|ERROR|SHORT|UNROUTABLE|OFFLINE|BACKORDER/.test(t)) return 'state-bad';
  if (/SHIPPED|DELIVERED|CLOSED|PACKED|FINISHED/.test(t)) return 'state-good';
  if (/HOLD|PAUSE|CHARG|WAIT/.test(t)) return 'state-warn';
  return 'state-busy';
}

function message(text) {
  $('message').textContent = text ?? '';
}

// ---- rendering -------------------------------------------------------------------------------

let renderPending = false;
function render() {
  if (renderPending) return;
  renderPending = true;
  window.requestAnimationFrame(() => {
    renderPending = false;
    renderDevices();
    renderOrders();
    renderCounters();
    map.setDevices([...state.devices.values()]);
  });
}

function renderDevices() {
  const rows = [...state.devices.values()].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  $('devices').replaceChildren(
    ...rows.map((d) => {
      const tr = el('tr');
      tr.append(el('td', d.id), el('td', d.class));
      const st = el('td');
      st.append(el('span', d.state ?? '–', `state ${d.class === 'amr' ? `state-${toneClass(amrTone(d.state))}` : tone(d.state)}`));
      tr.append(st);
      tr.append(el('td', typeof d.battery === 'number' ? `${Math.round(d.battery)} %` : '–'));
      tr.append(el('td', d.position ? `${d.position.x.toFixed(1)}, ${d.position.y.toFixed(1)}` : '–'));
      tr.append(el('td', taskLabel(d.task)));
      return tr;
    }),
  );
}

const toneClass = (t) => ({ idle: 'good', busy: 'busy', charging: 'warn', bad: 'bad' })[t];

function taskLabel(task) {
  if (!task) return '–';
  if (typeof task === 'string') return task;
  return [task.id, task.state].filter(Boolean).join(' · ') || '–';
}

function renderOrders() {
  const rows = [...state.orders.values()].sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt))).slice(0, 50);
  $('orders').replaceChildren(
    ...rows.map((o) => {
      const tr = el('tr');
      tr.append(el('td', o.id), el('td', o.externalId ?? '–'));
      const st = el('td');
      st.append(el('span', o.status ?? '–', `state ${tone(o.status)}`));
      tr.append(st);
      const lines = Array.isArray(o.lines) ? o.lines : [];
      tr.append(el('td', lines.map((l) => `${l.sku} ×${l.quantity} ${l.state}`).join(', ') || '–', 'lines'));
      tr.append(el('td', o.createdAt ? new Date(o.createdAt).toLocaleTimeString() : '–'));
      return tr;
    }),
  );
}

function renderCounters() {
  const devices = [...state.devices.values()];
  const amrs = devices.filter((d) => d.class === 'amr');
  $('c-amrs').textContent = `${amrs.filter((d) => amrTone(d.state) !== 'bad').length} / ${amrs.length}`;
  $('c-devices').textContent = String(devices.length);
  const open = [...state.orders.values()].filter((o) => !/CLOSED|CANCELED|REJECTED|SHIPPED|DELIVERED/i.test(String(o.status)));
  $('c-orders').textContent = String(open.length);
  const lines = state.linesByState ?? countLines();
  $('c-picking').textContent = String(lines.PICKING ?? 0);
  $('c-shipped').textContent = String((lines.SHIPPED ?? 0) + (lines.DELIVERED ?? 0));
}

function countLines() {
  const counts = {};
  for (const o of state.orders.values()) for (const l of o.lines ?? []) counts[l.state] = (counts[l.state] ?? 0) + 1;
  return counts;
}

// ---- data ------------------------------------------------------------------------------------

async function loadOrders() {
  const body = await getJson('/orders?limit=50');
  state.orders = new Map((body.items ?? []).map((o) => [o.id, o]));
}

async function loadDevices() {
  const body = await getJson('/devices');
  state.devices = new Map((body.items ?? []).map((d) => [d.id, d]));
}

async function loadSite() {
  const body = await getJson('/sites');
  const site = body.items?.[0];
  if (!site) return;
  $('site-name').textContent = site.name ?? site.id ?? '';
  map.setLayout(site.layout);
}

// Order events can arrive by the hundred; refetch the list at most once a second.
let ordersTimer;
function refreshOrdersSoon() {
  if (ordersTimer) return;
  ordersTimer = setTimeout(() => {
    ordersTimer = undefined;
    loadOrders().then(render, handleError);
  }, 1000);
}

function applyEvent(event) {
  const data = event.data ?? {};
  if (event.type === 'device.updated' && data.id) {
    state.devices.set(data.id, { ...state.devices.get(data.id), ...data });
  } else if (event.type === 'order.updated' && data.id) {
    const known = state.orders.get(data.id);
    if (known) state.orders.set(data.id, { ...known, ...data });
    else refreshOrdersSoon();
  } else if (event.type.startsWith('order.') || event.type.startsWith('line.')) {
    refreshOrdersSoon();
  }
}

function onFrame(frame) {
  if (frame.type === 'snapshot') {
    const data = frame.data ?? {};
    if (Array.isArray(data.devices)) state.devices = new Map(data.devices.map((d) => [d.id, d]));
    if (data.linesByState && typeof data.linesByState === 'object') state.linesByState = data.linesByState;
    if (data.site?.name) $('site-name').textContent = data.site.name;
    // A snapshot may follow a resync after we fell behind; the order list may be stale too.
    refreshOrdersSoon();
  } else if (frame.type === 'delta') {
    for (const event of frame.events ?? []) applyEvent(event);
    if (frame.events?.some((e) => e.type.startsWith('line.') || e.type.startsWith('order.'))) state.linesByState = undefined;
  }
  render();
}

function setStreamState(s) {
  const pill = $('stream-state');
  pill.textContent = s;
  pill.className = `pill ${s === 'live' ? 'pill-on' : 'pill-off'}`;
}

function handleError(err) {
  if (err instanceof AuthError) {
    showSignIn('That token was not accepted. Paste a valid one.');
    return;
  }
  message(`Could not load data: ${err.message}`);
}

// ---- sign-in ---------------------------------------------------------------------------------

function showSignIn(error) {
  state.stream?.close();
  state.stream = undefined;
  clearToken();
  $('board').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = error ?? '';
  setStreamState('offline');
  $('token-input').focus();
}

async function start() {
  $('sign-in').hidden = true;
  $('board').hidden = false;
  $('sign-out').hidden = false;
  message('Loading…');
  // One missing resource should not blank the others.
  const results = await Promise.allSettled([loadSite(), loadDevices(), loadOrders()]);
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  const authFailure = failures.find((e) => e instanceof AuthError);
  if (authFailure) {
    handleError(authFailure);
    return;
  }
  message(failures.length ? `Could not load: ${failures.map((e) => e.message).join('; ')}` : '');
  render();
  state.stream = openStream({
    onFrame,
    onState: (s, note) => {
      setStreamState(s);
      if (note) message(note);
    },
    onAuthFailed: () => showSignIn('The token is no longer accepted. Sign in again.'),
  });
}

function main() {
  map = createFloorMap($('floor'));
  takeTokenFromUrl();
  $('sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token-input').value.trim();
    if (!token) return;
    setToken(token);
    $('token-input').value = '';
    void start();
  });
  $('sign-out').addEventListener('click', () => showSignIn());
  if (getToken()) void start();
  else showSignIn();
}

// Exposed for the browser console and browser tests: the page's live state.
window.pickwire = { state };
main();

