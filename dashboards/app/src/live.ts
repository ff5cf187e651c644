/**
 * Keeps the state current: loads what the page needs over HTTP, then applies the stream's frames.
 * A snapshot (first frame of every connection, and after the server found us too slow) replaces
 * the devices wholesale and refetches the lists, since events may have been missed meanwhile.
 */
import { ApiError, api, clearToken, enc } from './api.js';
import {
  canReadFloor,
  devices,
  devicesVersion,
  exceptions,
  holds,
  kpis,
  me,
  orderTouched,
  recentOrders,
  signInMessage,
  site,
  stockVersion,
  streamState,
  tasks,
  tasksVersion,
} from './state.js';
import { openStream, type StreamHandle } from './stream.js';
import type { Device, Frame, Hold, Kpis, LiveEvent, Me, Order, Page, PwException, Site, Task } from './types.js';

/** Who listens to every device update as it arrives (the floor map), without Preact in between. */
type DeviceListener = (d: Device, at: number) => void;
const deviceListeners = new Set<DeviceListener>();
export function onDeviceUpdate(l: DeviceListener): () => void {
  deviceListeners.add(l);
  return () => void deviceListeners.delete(l);
}
type ResetListener = () => void;
const resetListeners = new Set<ResetListener>();
/** A snapshot replaced the devices: the map starts over from the Map. */
export function onDevicesReset(l: ResetListener): () => void {
  resetListeners.add(l);
  return () => void resetListeners.delete(l);
}

let stream: StreamHandle | undefined;
const timers: number[] = [];
const pending = new Map<string, number>();

/** Runs `fn` at most once per `ms`, trailing: bursts of events cost one refetch. */
function soon(key: string, ms: number, fn: () => Promise<unknown> | void): void {
  if (pending.has(key)) return;
  pending.set(
    key,
    window.setTimeout(() => {
      pending.delete(key);
      void Promise.resolve(fn()).catch(report);
    }, ms),
  );
}

function report(err: unknown): void {
  if (err instanceof ApiError && err.status === 401) {
    signOut('The token is no longer accepted. Sign in again.');
    return;
  }
  // Background refreshes fail quietly while the core is away; the stream pill says so.
  console.warn('[pickwire]', err instanceof Error ? err.message : err);
}

let versionTimer: number | undefined;
function bumpDevices(): void {
  if (versionTimer !== undefined) return;
  versionTimer = window.setTimeout(() => {
    versionTimer = undefined;
    devicesVersion.value++;
  }, 250);
}
let taskTimer: number | undefined;
function bumpTasks(): void {
  if (taskTimer !== undefined) return;
  taskTimer = window.setTimeout(() => {
    taskTimer = undefined;
    tasksVersion.value++;
  }, 250);
}

export async function loadOrders(): Promise<void> {
  const page = await api<Page<Order>>('/orders?limit=50');
  recentOrders.value = page.items;
}

export async function loadExceptions(): Promise<void> {
  const page = await api<Page<PwException>>('/exceptions?status=open&limit=200');
  exceptions.value = page.items;
}

export async function loadHolds(): Promise<void> {
  const page = await api<Page<Hold>>('/holds?status=open&limit=200');
  holds.value = page.items;
}

export async function loadKpis(): Promise<void> {
  kpis.value = await api<Kpis>('/kpis');
}

const ACTIVE_TASK_STATES = ['CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED'] as const;
/** Every task in `state`, page by page (a backlog of waiting trips can outgrow one page). */
async function allTasksIn(state: string): Promise<Task[]> {
  const all: Task[] = [];
  let cursor: string | null | undefined;
  do {
    const page: Page<Task> = await api<Page<Task>>(`/tasks?state=${state}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

export async function loadTasks(): Promise<void> {
  const lists = await Promise.all(ACTIVE_TASK_STATES.map(allTasksIn));
  tasks.clear();
  for (const list of lists) for (const t of list) tasks.set(t.id, t);
  bumpTasks();
}

async function loadDevices(): Promise<void> {
  const page = await api<Page<Device>>('/devices');
  replaceDevices(page.items);
}

function replaceDevices(list: readonly Device[]): void {
  devices.clear();
  for (const d of list) devices.set(d.id, d);
  for (const l of resetListeners) l();
  bumpDevices();
}

function refreshLists(): void {
  soon('orders', 300, loadOrders);
  if (!canReadFloor.value) return;
  soon('exceptions', 300, loadExceptions);
  soon('holds', 300, loadHolds);
  soon('kpis', 300, loadKpis);
  soon('tasks', 300, loadTasks);
}

function touchOrder(id: unknown): void {
  if (typeof id === 'string' && id) orderTouched.value = { id, n: orderTouched.value.n + 1 };
}

function patchOrder(id: string, patch: Partial<Order>): void {
  const list = recentOrders.value;
  const i = list.findIndex((o) => o.id === id);
  if (i < 0) return;
  const next = list.slice();
  next[i] = { ...(list[i] as Order), ...patch };
  recentOrders.value = next;
}

function applyEvent(e: LiveEvent, now: number): void {
  const d = e.data;
  const id = typeof d.id === 'string' ? d.id : undefined;
  switch (e.type) {
    case 'device.updated': {
      if (!id) return;
      const device = { ...devices.get(id), ...(d as unknown as Device) };
      devices.set(id, device);
      for (const l of deviceListeners) l(device, now);
      bumpDevices();
      return;
    }
    case 'order.created':
      soon('orders', 1000, loadOrders);
      return;
    case 'order.updated':
      if (!id) return;
      patchOrder(id, { status: String(d.status), fulfilment: String(d.fulfilment) });
      touchOrder(id);
      return;
    case 'order.eta':
      if (!id) return;
      patchOrder(id, { eta: d.eta ?? null });
      touchOrder(id);
      return;
    case 'hold.placed':
    case 'hold.released':
    case 'hold.rejected':
    case 'hold.updated':
      soon('holds', 500, loadHolds);
      touchOrder(d.orderId);
      return;
    case 'exception.updated': {
      const x = d as unknown as PwException;
      if (!id) return;
      const rest = exceptions.value.filter((o) => o.id !== id);
      exceptions.value = x.status === 'open' ? [...rest, x].sort((a, b) => a.createdAt.localeCompare(b.createdAt)) : rest;
      touchOrder(x.orderId);
      return;
    }
    case 'stock.updated':
      stockVersion.value++;
      return;
    case 'task.updated': {
      if (!id) return;
      const t = tasks.get(id);
      const state = String(d.state);
      if (t) {
        if ((ACTIVE_TASK_STATES as readonly string[]).includes(state)) tasks.set(id, { ...t, state, deviceId: (d.deviceId as string | null) ?? t.deviceId, updatedAt: e.at });
        else tasks.delete(id);
        bumpTasks();
      } else if ((ACTIVE_TASK_STATES as readonly string[]).includes(state)) {
        soon('tasks', 1000, loadTasks);
      }
      return;
    }
    default:
      return;
  }
}

function onFrame(frame: Frame): void {
  const now = performance.now();
  if (frame.type === 'snapshot') {
    if (Array.isArray(frame.data.devices)) replaceDevices(frame.data.devices);
    refreshLists();
    return;
  }
  for (const e of frame.events) applyEvent(e, now);
}

/** Signs in with the stored token: who am I, the site, the lists, then the stream. */
export async function start(): Promise<void> {
  stop();
  let who: Me;
  try {
    who = await api<Me>('/me');
  } catch (err) {
    signOut(err instanceof ApiError && err.status === 401 ? 'That token was not accepted.' : `Cannot sign in: ${(err as Error).message}`);
    return;
  }
  signInMessage.value = '';
  me.value = who;
  const floor = who.role !== 'channel';
  const loads: Promise<unknown>[] = [loadOrders()];
  if (floor) {
    loads.push(
      api<Page<Site>>('/sites').then((p) => (site.value = p.items[0] ?? null)),
      loadDevices(),
      loadExceptions(),
      loadHolds(),
      loadKpis(),
      loadTasks(),
    );
  }
  const results = await Promise.allSettled(loads);
  for (const r of results) if (r.status === 'rejected') report(r.reason);
  if (me.value !== who) return;
  if (floor) {
    stream = openStream({
      onFrame,
      onState: (s) => (streamState.value = s),
      onAuthFailed: () => signOut('The token is no longer accepted. Sign in again.'),
    });
    // KPIs are aggregates the stream does not carry; active tasks drift as plans are made.
    timers.push(window.setInterval(() => void loadKpis().catch(report), 5000));
    timers.push(window.setInterval(() => void loadTasks().catch(report), 5000));
  }
}

export function stop(): void {
  stream?.close();
  stream = undefined;
  for (const t of timers.splice(0)) window.clearInterval(t);
  for (const t of pending.values()) window.clearTimeout(t);
  pending.clear();
  streamState.value = 'offline';
}

export function signOut(message = ''): void {
  stop();
  clearToken();
  me.value = null;
  site.value = null;
  devices.clear();
  tasks.clear();
  recentOrders.value = [];
  exceptions.value = [];
  holds.value = [];
  kpis.value = null;
  signInMessage.value = message;
}

/** For tests and the benchmark: how much the stream carried. */
export function streamStats(): StreamHandle['stats'] | undefined {
  return stream?.stats;
}

export const orderPath = (id: string): string => `/orders/${enc(id)}`;
