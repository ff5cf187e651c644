/**
 * The dashboard's state. Small, slow-changing things are signals; the device table is a plain
 * Map with a version signal bumped at most a few times a second, because at 500 robots x 10 Hz a
 * signal per update would re-render the page thousands of times a second. The floor map does not
 * go through Preact at all: it reads the Map on each animation frame.
 */
import { computed, signal } from '@preact/signals';
import type { StreamState } from './stream.js';
import type { Device, Hold, Kpis, Me, Order, PwException, Site, Task } from './types.js';

export const me = signal<Me | null>(null);
export const signInMessage = signal('');
export const streamState = signal<StreamState>('offline');
export const site = signal<Site | null>(null);

export const devices = new Map<string, Device>();
export const devicesVersion = signal(0);

/** Open and active device tasks by id: queues at AS/RS ports and stations, totes on conveyors. */
export const tasks = new Map<string, Task>();
export const tasksVersion = signal(0);

export const recentOrders = signal<Order[]>([]);
export const exceptions = signal<PwException[]>([]);
export const holds = signal<Hold[]>([]);
export const kpis = signal<Kpis | null>(null);
/** Bumped on every stock.updated, so an open inventory view refreshes. */
export const stockVersion = signal(0);
/** Bumped per order on order events: an open order detail refetches. */
export const orderTouched = signal<{ id: string; n: number }>({ id: '', n: 0 });

export const selectedDevice = signal<string | null>(null);

export type ViewName = 'floor' | 'orders' | 'exceptions' | 'devices' | 'inventory';
export const VIEWS: readonly { id: ViewName; label: string; key: string }[] = [
  { id: 'floor', label: 'Floor', key: '1' },
  { id: 'orders', label: 'Orders', key: '2' },
  { id: 'exceptions', label: 'Exceptions', key: '3' },
  { id: 'devices', label: 'Devices', key: '4' },
  { id: 'inventory', label: 'Inventory', key: '5' },
];

export interface Route {
  view: ViewName;
  /** Order id (orders view) or device id (devices view). */
  id: string | undefined;
}

export function parseHash(hash: string): Route {
  const [first, ...rest] = hash.replace(/^#\/?/, '').split('/');
  const view = VIEWS.find((v) => v.id === first)?.id ?? 'floor';
  const id = rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined;
  return { view, id: id || undefined };
}

export const route = signal<Route>(parseHash(typeof location === 'undefined' ? '' : location.hash));

export function navigate(view: ViewName, id?: string): void {
  const hash = `#${view}${id ? `/${encodeURIComponent(id)}` : ''}`;
  if (location.hash !== hash) history.pushState(null, '', hash);
  route.value = { view, id };
}

export interface Toast {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}
export const toasts = signal<Toast[]>([]);
let toastId = 0;

export function toast(kind: Toast['kind'], text: string): void {
  const t = { id: ++toastId, kind, text };
  toasts.value = [...toasts.value.slice(-3), t];
  window.setTimeout(() => (toasts.value = toasts.value.filter((x) => x !== t)), kind === 'error' ? 8000 : 4000);
}

/** What the signed-in role may do; the server checks again on every call. */
export const role = computed(() => me.value?.role);
export const canActOnFloor = computed(() => role.value === 'operator' || role.value === 'admin');
export const canCancelOrders = computed(() => role.value === 'operator' || role.value === 'admin' || role.value === 'channel');
export const canReadFloor = computed(() => role.value !== undefined && role.value !== 'channel');
