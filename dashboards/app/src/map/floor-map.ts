/**
 * The floor map on a canvas: the site's route graph, chargers and stations where the layout puts
 * them, a schematic of the fixed equipment (AS/RS aisles with their ports and queues, conveyor
 * loops with their stops, totes and arm stations) to the right of the graph, and every AMR with
 * its heading, state colour and battery. Pan with drag or arrow keys, zoom with the wheel or +/-.
 *
 * Robots glide between the positions the stream reports (10 Hz at most) instead of jumping; the
 * loop runs only while something moves or the view changes, and the static layer (graph and
 * equipment outlines) is drawn once per view change into an offscreen canvas.
 *
 * World coordinates are metres with y up (as the layout and VDA 5050 have them); the canvas has y down.
 */
import type { Device, Layout, Task } from '../types.js';

export const COLORS = {
  bg: '#0e141b',
  edge: '#2b3947',
  node: '#3a4a5a',
  zone: { amr: '#2f4f6e', asrs: '#5b4a2e', pack: '#5a447e', charge: '#6b5d1f' } as Record<string, string>,
  station: '#9b7bff',
  charger: '#f5c542',
  label: '#9aa9b8',
  equipment: '#1d2833',
  equipmentEdge: '#4b5d6e',
  belt: '#3d4f60',
  tote: '#e8a33d',
  selected: '#ffffff',
  reserved: 'rgba(79, 179, 255, 0.45)',
  state: {
    idle: '#3ecf8e',
    busy: '#4fb3ff',
    charging: '#f5c542',
    paused: '#f08c3a',
    bad: '#ff5d5d',
    unknown: '#7d8a97',
  },
} as const;

export type RobotTone = keyof typeof COLORS.state;

/** The colour family of a device on the map; the legend uses the same names. */
export function robotTone(d: Pick<Device, 'state' | 'charging'>): RobotTone {
  const s = String(d.state ?? '').toLowerCase();
  if (s === 'error' || s === 'offline' || s === 'stale' || s === 'out-of-service') return 'bad';
  if (s === 'unknown' || s === '') return 'unknown';
  if (d.charging) return 'charging';
  if (s === 'paused') return 'paused';
  if (s === 'idle') return 'idle';
  return 'busy';
}

interface Robot {
  id: string;
  device: Device;
  fx: number;
  fy: number;
  ft: number;
  tx: number;
  ty: number;
  tt: number;
  t0: number;
  dur: number;
  lastAt: number;
  /** Displayed position, recomputed each frame. */
  x: number;
  y: number;
  theta: number;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Belt {
  id: string;
  kind: 'loop' | 'line';
  length: number;
  speed: number;
  rect: Rect;
  stops: Map<string, number>;
}

interface Equipment {
  asrs: { id: string; rect: Rect; ports: { id: string; x: number; y: number }[] }[];
  belts: Belt[];
  arms: { id: string; stationId: string; x: number; y: number }[];
}

export interface MapStats {
  frames: number;
  drawMsTotal: number;
  lastDrawMs: number;
  drawn: { amr: number; fixed: number };
}

export interface FloorMapOptions {
  onSelect(id: string | null): void;
}

const TAU = Math.PI * 2;
const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;
function lerpAngle(a: number, b: number, t: number): number {
  let d = (b - a) % TAU;
  if (d > Math.PI) d -= TAU;
  if (d < -Math.PI) d += TAU;
  return a + d * t;
}

/** A point at distance `s` along a loop drawn as `rect`, clockwise from its top-left corner (y up: top is y + h). */
function alongLoop(r: Rect, length: number, s: number): { x: number; y: number; side: 'top' | 'right' | 'bottom' | 'left' } {
  const per = 2 * (r.w + r.h);
  let d = (((s % length) + length) % length) * (per / length);
  if (d <= r.w) return { x: r.x + d, y: r.y + r.h, side: 'top' };
  d -= r.w;
  if (d <= r.h) return { x: r.x + r.w, y: r.y + r.h - d, side: 'right' };
  d -= r.h;
  if (d <= r.w) return { x: r.x + r.w - d, y: r.y, side: 'bottom' };
  d -= r.w;
  return { x: r.x, y: r.y + Math.min(r.h, d), side: 'left' };
}

function alongBelt(b: Belt, s: number): { x: number; y: number; side: 'top' | 'right' | 'bottom' | 'left' } {
  if (b.kind === 'loop') return alongLoop(b.rect, b.length, s);
  const t = Math.max(0, Math.min(1, s / b.length));
  return { x: b.rect.x + b.rect.w * t, y: b.rect.y, side: 'top' };
}

export class FloorMap {
  readonly stats: MapStats = { frames: 0, drawMsTotal: 0, lastDrawMs: 0, drawn: { amr: 0, fixed: 0 } };
  private readonly ctx: CanvasRenderingContext2D;
  private readonly staticLayer = document.createElement('canvas');
  private layout: Layout | null = null;
  private nodes = new Map<string, { x: number; y: number }>();
  private bounds = { minX: 0, minY: 0, maxX: 10, maxY: 10 };
  private equipment: Equipment = { asrs: [], belts: [], arms: [] };
  private readonly robots = new Map<string, Robot>();
  private readonly fixed = new Map<string, Device>();
  private tasks: Task[] = [];
  private selected: string | null = null;
  /** View: screen = (world - origin) * scale, y flipped. */
  private scale = 10;
  private ox = 0;
  private oy = 0;
  private userMoved = false;
  private staticKey = '';
  private raf = 0;
  private animateUntil = 0;
  private drag: { x: number; y: number; ox: number; oy: number; moved: boolean } | undefined;
  private readonly resize: ResizeObserver;
  private readonly cleanup: (() => void)[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly opts: FloorMapOptions,
  ) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('canvas 2d context unavailable');
    this.ctx = ctx;
    this.resize = new ResizeObserver(() => {
      if (!this.userMoved) this.fit();
      this.invalidate();
    });
    this.resize.observe(canvas);
    this.listen();
  }

  destroy(): void {
    this.resize.disconnect();
    for (const c of this.cleanup) c();
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
  }

  setLayout(layout: Layout | null): void {
    this.layout = layout;
    this.nodes = new Map((layout?.graph.nodes ?? []).map((n) => [n.id, { x: n.x, y: n.y }]));
    const xs = [...this.nodes.values()].map((n) => n.x);
    const ys = [...this.nodes.values()].map((n) => n.y);
    this.bounds = xs.length ? { minX: Math.min(...xs), minY: Math.min(...ys), maxX: Math.max(...xs), maxY: Math.max(...ys) } : { minX: 0, minY: 0, maxX: 10, maxY: 10 };
    this.equipment = layout ? this.placeEquipment(layout) : { asrs: [], belts: [], arms: [] };
    this.userMoved = false;
    this.fit();
    this.invalidate();
  }

  /** Starts over from a full device list (first load, or a snapshot after a resync). */
  resetDevices(list: Iterable<Device>): void {
    this.robots.clear();
    this.fixed.clear();
    const now = performance.now();
    for (const d of list) this.updateDevice(d, now);
    this.invalidate();
  }

  updateDevice(d: Device, now: number): void {
    if (d.class !== 'amr') {
      this.fixed.set(d.id, d);
      this.invalidate();
      return;
    }
    const p = d.position;
    if (!p || !Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      this.robots.delete(d.id);
      this.invalidate();
      return;
    }
    const theta = Number.isFinite(p.theta) ? p.theta : 0;
    const r = this.robots.get(d.id);
    if (!r) {
      this.robots.set(d.id, { id: d.id, device: d, fx: p.x, fy: p.y, ft: theta, tx: p.x, ty: p.y, tt: theta, t0: now, dur: 0, lastAt: now, x: p.x, y: p.y, theta });
      this.invalidate();
      return;
    }
    r.device = d;
    this.place(r, now);
    const jump = Math.hypot(p.x - r.x, p.y - r.y) > 6;
    r.fx = jump ? p.x : r.x;
    r.fy = jump ? p.y : r.y;
    r.ft = jump ? theta : r.theta;
    r.tx = p.x;
    r.ty = p.y;
    r.tt = theta;
    r.t0 = now;
    // Glide over about one update interval, so motion is continuous at the stream's rate.
    r.dur = jump ? 0 : Math.min(400, Math.max(60, now - r.lastAt));
    r.lastAt = now;
    this.animateUntil = Math.max(this.animateUntil, now + r.dur);
    this.kick();
  }

  setTasks(tasks: Iterable<Task>): void {
    this.tasks = [...tasks];
    this.invalidate();
  }

  setSelected(id: string | null): void {
    this.selected = id;
    this.invalidate();
  }

  /** Robot positions on screen (CSS pixels), for tests. */
  robotsOnScreen(): { id: string; x: number; y: number; tone: RobotTone }[] {
    return [...this.robots.values()].map((r) => ({ id: r.id, x: this.sx(r.x), y: this.sy(r.y), tone: robotTone(r.device) }));
  }

  fit(): void {
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (w === 0 || h === 0) return;
    const b = this.worldBounds();
    const pad = 24;
    this.scale = Math.max(0.5, Math.min((w - 2 * pad) / Math.max(b.maxX - b.minX, 1), (h - 2 * pad) / Math.max(b.maxY - b.minY, 1)));
    this.ox = (w - (b.maxX - b.minX) * this.scale) / 2 - b.minX * this.scale;
    this.oy = h - (h - (b.maxY - b.minY) * this.scale) / 2 + b.minY * this.scale;
    this.userMoved = false;
    this.invalidate();
  }

  zoom(factor: number, cx = this.canvas.clientWidth / 2, cy = this.canvas.clientHeight / 2): void {
    const next = Math.max(0.5, Math.min(400, this.scale * factor));
    const f = next / this.scale;
    this.ox = cx - (cx - this.ox) * f;
    this.oy = cy - (cy - this.oy) * f;
    this.scale = next;
    this.userMoved = true;
    this.invalidate();
  }

  pan(dx: number, dy: number): void {
    this.ox += dx;
    this.oy += dy;
    this.userMoved = true;
    this.invalidate();
  }

  /** The next or previous AMR by id, for keyboard users. */
  cycle(step: 1 | -1): void {
    const ids = [...this.robots.keys(), ...this.fixed.keys()].sort();
    if (ids.length === 0) return;
    const i = this.selected ? ids.indexOf(this.selected) : -1;
    const next = ids[(i + step + ids.length) % ids.length] ?? null;
    this.opts.onSelect(next);
  }

  // ---- geometry -------------------------------------------------------------------------------

  private sx(x: number): number {
    return this.ox + x * this.scale;
  }

  private sy(y: number): number {
    return this.oy - y * this.scale;
  }

  private worldBounds(): { minX: number; minY: number; maxX: number; maxY: number } {
    const b = { ...this.bounds };
    const grow = (r: Rect): void => {
      b.minX = Math.min(b.minX, r.x - 2);
      b.maxX = Math.max(b.maxX, r.x + r.w + 2);
      b.minY = Math.min(b.minY, r.y - 2);
      b.maxY = Math.max(b.maxY, r.y + r.h + 1);
    };
    for (const a of this.equipment.asrs) grow(a.rect);
    for (const c of this.equipment.belts) grow(c.rect);
    for (const a of this.equipment.arms) grow({ x: a.x - 1, y: a.y - 1, w: 6, h: 2 });
    for (const r of this.robots.values()) {
      b.minX = Math.min(b.minX, r.tx);
      b.maxX = Math.max(b.maxX, r.tx);
      b.minY = Math.min(b.minY, r.ty);
      b.maxY = Math.max(b.maxY, r.ty);
    }
    return b;
  }

  /**
   * The layout gives fixed equipment no floor coordinates, so it is drawn as a schematic in a
   * column right of the route graph: each AS/RS aisle above the conveyor its ports feed, arm
   * stations beside their stops.
   */
  private placeEquipment(layout: Layout): Equipment {
    const out: Equipment = { asrs: [], belts: [], arms: [] };
    const x0 = this.bounds.maxX + 5;
    let top = this.bounds.maxY;
    const placedBelts = new Set<string>();
    const placeBelt = (c: Layout['devices']['conveyors'][number]): Belt => {
      const w = c.kind === 'loop' ? Math.min(14, Math.max(2, c.length * 0.3)) : Math.min(14, c.length);
      const h = c.kind === 'loop' ? Math.max(1.5, c.length / 2 - w) : 0;
      const belt: Belt = { id: c.id, kind: c.kind, length: c.length, speed: c.speed, rect: { x: x0, y: top - h, w, h }, stops: new Map(c.stops.map((s) => [s.id, s.at])) };
      out.belts.push(belt);
      placedBelts.add(c.id);
      top -= h + 4;
      return belt;
    };
    for (const a of layout.devices.asrs) {
      const beltId = a.ports[0]?.conveyorId;
      const spec = layout.devices.conveyors.find((c) => c.id === beltId);
      const rect = { x: x0, y: top - 2.5, w: Math.min(14, Math.max(6, a.aisleLength * 0.4)), h: 2.5 };
      top -= 2.5 + 2;
      const ports: Equipment['asrs'][number]['ports'] = [];
      if (spec && !placedBelts.has(spec.id)) {
        const belt = placeBelt(spec);
        for (const p of a.ports) {
          const at = belt.stops.get(p.id);
          const pt = at === undefined ? { x: rect.x + rect.w, y: rect.y } : alongBelt(belt, at);
          ports.push({ id: p.id, x: Math.min(rect.x + rect.w, Math.max(rect.x, pt.x)), y: rect.y });
        }
      } else {
        a.ports.forEach((p, i) => ports.push({ id: p.id, x: rect.x + ((i + 1) * rect.w) / (a.ports.length + 1), y: rect.y }));
      }
      out.asrs.push({ id: a.id, rect, ports });
    }
    for (const c of layout.devices.conveyors) if (!placedBelts.has(c.id)) placeBelt(c);
    for (const arm of layout.devices.arms) {
      const belt = out.belts.find((b) => b.stops.has(arm.stationId));
      const at = belt?.stops.get(arm.stationId);
      if (!belt || at === undefined) continue;
      const pt = alongBelt(belt, at);
      const off = 1.6;
      const dx = pt.side === 'right' ? off : pt.side === 'left' ? -off : 0;
      const dy = pt.side === 'top' ? off : pt.side === 'bottom' ? -off : 0;
      out.arms.push({ id: arm.id, stationId: arm.stationId, x: pt.x + dx, y: pt.y + dy });
    }
    return out;
  }

  // ---- input ----------------------------------------------------------------------------------

  private listen(): void {
    const c = this.canvas;
    const on = <K extends keyof HTMLElementEventMap>(type: K, fn: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions): void => {
      c.addEventListener(type, fn, opts);
      this.cleanup.push(() => c.removeEventListener(type, fn));
    };
    on(
      'wheel',
      (e) => {
        e.preventDefault();
        const r = c.getBoundingClientRect();
        this.zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
      },
      { passive: false },
    );
    on('pointerdown', (e) => {
      c.setPointerCapture(e.pointerId);
      this.drag = { x: e.clientX, y: e.clientY, ox: this.ox, oy: this.oy, moved: false };
    });
    on('pointermove', (e) => {
      const d = this.drag;
      if (!d) return;
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (!d.moved && Math.hypot(dx, dy) < 4) return;
      d.moved = true;
      this.ox = d.ox + dx;
      this.oy = d.oy + dy;
      this.userMoved = true;
      this.invalidate();
    });
    on('pointerup', (e) => {
      const d = this.drag;
      this.drag = undefined;
      if (!d || d.moved) return;
      const r = c.getBoundingClientRect();
      const hit = this.hit(e.clientX - r.left, e.clientY - r.top);
      if (hit) this.opts.onSelect(hit);
    });
    on('pointercancel', () => (this.drag = undefined));
    on('dblclick', () => this.fit());
    on('keydown', (e) => {
      const step = 60;
      const keys: Record<string, () => void> = {
        ArrowLeft: () => this.pan(step, 0),
        ArrowRight: () => this.pan(-step, 0),
        ArrowUp: () => this.pan(0, step),
        ArrowDown: () => this.pan(0, -step),
        '+': () => this.zoom(1.25),
        '=': () => this.zoom(1.25),
        '-': () => this.zoom(0.8),
        '0': () => this.fit(),
        ']': () => this.cycle(1),
        '[': () => this.cycle(-1),
        n: () => this.cycle(1),
        p: () => this.cycle(-1),
        Escape: () => this.opts.onSelect(null),
      };
      const fn = keys[e.key];
      if (!fn || e.altKey || e.ctrlKey || e.metaKey) return;
      e.preventDefault();
      fn();
    });
  }

  /** The device under a screen point: robots first (they sit on top), then equipment. */
  private hit(px: number, py: number): string | null {
    let best: { id: string; d: number } | undefined;
    const reach = Math.max(10, this.robotRadius() + 4);
    for (const r of this.robots.values()) {
      const d = Math.hypot(this.sx(r.x) - px, this.sy(r.y) - py);
      if (d <= reach && (!best || d < best.d)) best = { id: r.id, d };
    }
    if (best) return best.id;
    const wx = (px - this.ox) / this.scale;
    const wy = (this.oy - py) / this.scale;
    for (const a of this.equipment.arms) if (Math.abs(wx - a.x) < 1 && Math.abs(wy - a.y) < 1) return a.id;
    const inside = (r: Rect, m = 0.6): boolean => wx >= r.x - m && wx <= r.x + r.w + m && wy >= r.y - m && wy <= r.y + r.h + m;
    for (const a of this.equipment.asrs) if (inside(a.rect)) return a.id;
    for (const b of this.equipment.belts) if (inside(b.rect)) return b.id;
    return null;
  }

  // ---- drawing --------------------------------------------------------------------------------

  private invalidate(): void {
    this.kick();
  }

  private kick(): void {
    if (!this.raf) this.raf = requestAnimationFrame((t) => this.frame(t));
  }

  private frame(now: number): void {
    this.raf = 0;
    const started = performance.now();
    this.draw(now);
    const ms = performance.now() - started;
    this.stats.frames += 1;
    this.stats.lastDrawMs = ms;
    this.stats.drawMsTotal += ms;
    // Keep going while robots glide or totes ride a belt; otherwise sleep until something changes.
    if (now < this.animateUntil || this.tasks.some((t) => t.state === 'RUNNING' && t.kind.startsWith('conveyor.'))) this.kick();
  }

  private robotRadius(): number {
    return Math.max(3.5, Math.min(12, this.scale * 0.45));
  }

  private place(r: Robot, now: number): void {
    const t = r.dur <= 0 ? 1 : Math.max(0, Math.min(1, (now - r.t0) / r.dur));
    r.x = lerp(r.fx, r.tx, t);
    r.y = lerp(r.fy, r.ty, t);
    r.theta = lerpAngle(r.ft, r.tt, t);
  }

  private ensureSize(): { w: number; h: number; dpr: number } {
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    const pw = Math.max(1, Math.round(w * dpr));
    const ph = Math.max(1, Math.round(h * dpr));
    if (this.canvas.width !== pw || this.canvas.height !== ph) {
      this.canvas.width = pw;
      this.canvas.height = ph;
      this.staticKey = '';
    }
    return { w, h, dpr };
  }

  private draw(now: number): void {
    const { w, h, dpr } = this.ensureSize();
    const ctx = this.ctx;
    const key = `${w}x${h}@${dpr}:${this.scale.toFixed(4)}:${this.ox.toFixed(1)}:${this.oy.toFixed(1)}:${this.layout?.name ?? ''}`;
    if (key !== this.staticKey) {
      this.drawStatic(w, h, dpr);
      this.staticKey = key;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.staticLayer, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (!this.layout) {
      ctx.fillStyle = COLORS.label;
      ctx.font = '13px system-ui, sans-serif';
      ctx.fillText('Loading the site layout…', 16, 24);
    }
    this.stats.drawn.fixed = this.drawEquipment(ctx);
    this.drawTotes(ctx);
    this.stats.drawn.amr = this.drawRobots(ctx, now, w, h);
  }

  private drawStatic(w: number, h: number, dpr: number): void {
    const layer = this.staticLayer;
    layer.width = this.canvas.width;
    layer.height = this.canvas.height;
    const ctx = layer.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = COLORS.bg;
    ctx.fillRect(0, 0, layer.width, layer.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const layout = this.layout;
    if (!layout) return;
    const s = this.scale;
    ctx.strokeStyle = COLORS.edge;
    ctx.lineWidth = Math.max(1, Math.min(4, s * 0.12));
    ctx.beginPath();
    for (const e of layout.graph.edges) {
      const a = this.nodes.get(e.from);
      const b = this.nodes.get(e.to);
      if (!a || !b) continue;
      ctx.moveTo(this.sx(a.x), this.sy(a.y));
      ctx.lineTo(this.sx(b.x), this.sy(b.y));
    }
    ctx.stroke();
    const nr = Math.max(1.5, Math.min(6, s * 0.16));
    for (const n of layout.graph.nodes) {
      ctx.fillStyle = (n.zone && COLORS.zone[n.zone]) || COLORS.node;
      ctx.fillRect(this.sx(n.x) - nr, this.sy(n.y) - nr, 2 * nr, 2 * nr);
    }
    const labels = s >= 18;
    ctx.font = '11px system-ui, sans-serif';
    const marker = (nodeId: string, color: string, label: string, shape: 'square' | 'diamond'): void => {
      const n = this.nodes.get(nodeId);
      if (!n) return;
      const x = this.sx(n.x);
      const y = this.sy(n.y);
      const m = nr * 2.2;
      ctx.fillStyle = color;
      ctx.beginPath();
      if (shape === 'square') ctx.rect(x - m, y - m, 2 * m, 2 * m);
      else {
        ctx.moveTo(x, y - m * 1.3);
        ctx.lineTo(x + m * 1.3, y);
        ctx.lineTo(x, y + m * 1.3);
        ctx.lineTo(x - m * 1.3, y);
        ctx.closePath();
      }
      ctx.fill();
      if (labels) {
        ctx.fillStyle = COLORS.label;
        ctx.fillText(label, x + m + 3, y + m + 10);
      }
    };
    for (const st of layout.stations) if (st.nodeId) marker(st.nodeId, COLORS.station, st.id, 'square');
    // Robots park on chargers; their labels would cover the charger's, so those wait for a closer zoom.
    for (const c of layout.chargers) marker(c.nodeId, COLORS.charger, s >= 40 ? c.id : '', 'diamond');

    // Equipment outlines; their state colours are drawn per frame on top.
    ctx.lineWidth = Math.max(2, Math.min(10, s * 0.5));
    ctx.strokeStyle = COLORS.belt;
    for (const b of this.equipment.belts) {
      const r = b.rect;
      ctx.beginPath();
      if (b.kind === 'loop') ctx.rect(this.sx(r.x), this.sy(r.y + r.h), r.w * s, r.h * s);
      else {
        ctx.moveTo(this.sx(r.x), this.sy(r.y));
        ctx.lineTo(this.sx(r.x + r.w), this.sy(r.y));
      }
      ctx.stroke();
    }
    ctx.font = '11px system-ui, sans-serif';
    for (const a of this.equipment.asrs) {
      const r = a.rect;
      ctx.fillStyle = COLORS.equipment;
      ctx.fillRect(this.sx(r.x), this.sy(r.y + r.h), r.w * s, r.h * s);
      // Ports connect the aisle to the belt below.
      ctx.strokeStyle = COLORS.equipmentEdge;
      ctx.lineWidth = Math.max(1, s * 0.15);
      for (const p of a.ports) {
        const belt = this.equipment.belts[0];
        ctx.beginPath();
        ctx.moveTo(this.sx(p.x), this.sy(p.y));
        ctx.lineTo(this.sx(p.x), this.sy(belt ? Math.min(p.y, belt.rect.y + belt.rect.h) : p.y - 1));
        ctx.stroke();
      }
    }
    ctx.fillStyle = COLORS.label;
    const fontPx = Math.max(9, Math.min(13, s * 0.6));
    ctx.font = `${fontPx}px system-ui, sans-serif`;
    for (const a of this.equipment.asrs) ctx.fillText(`${a.id} (AS/RS)`, this.sx(a.rect.x), this.sy(a.rect.y + a.rect.h) - 4);
    for (const b of this.equipment.belts) {
      ctx.fillText(b.id, this.sx(b.rect.x + b.rect.w / 2) - 12, this.sy(b.rect.y + b.rect.h / 2) + 4);
      if (labels) {
        for (const [stop, at] of b.stops) {
          const p = alongBelt(b, at);
          ctx.fillText(stop, this.sx(p.x) + 4, this.sy(p.y) + (p.side === 'bottom' ? 14 : -6));
        }
      }
    }
  }

  private deviceColor(id: string): string {
    const d = this.fixed.get(id);
    return d ? COLORS.state[robotTone(d)] : COLORS.state.unknown;
  }

  /** AS/RS, conveyors and arms in their state colours, with queue counts. Returns how many were drawn. */
  private drawEquipment(ctx: CanvasRenderingContext2D): number {
    const s = this.scale;
    let n = 0;
    const queue = new Map<string, number>();
    for (const t of this.tasks) {
      const key = t.kind.startsWith('asrs.') ? t.plan.portId : t.kind === 'arm.pick' ? t.plan.stationId : undefined;
      if (key && t.state !== 'RUNNING') queue.set(key, (queue.get(key) ?? 0) + 1);
    }
    const badge = (x: number, y: number, count: number): void => {
      if (!count) return;
      const text = String(count);
      ctx.font = 'bold 11px system-ui, sans-serif';
      const tw = ctx.measureText(text).width + 8;
      ctx.fillStyle = '#e8a33d';
      ctx.fillRect(x, y - 14, tw, 14);
      ctx.fillStyle = '#10161c';
      ctx.fillText(text, x + 4, y - 3);
    };
    ctx.lineWidth = 2;
    for (const a of this.equipment.asrs) {
      const r = a.rect;
      ctx.strokeStyle = this.deviceColor(a.id);
      if (this.selected === a.id) ctx.lineWidth = 4;
      ctx.strokeRect(this.sx(r.x), this.sy(r.y + r.h), r.w * s, r.h * s);
      ctx.lineWidth = 2;
      for (const p of a.ports) {
        const m = Math.max(3, s * 0.3);
        ctx.fillStyle = COLORS.tote;
        ctx.fillRect(this.sx(p.x) - m, this.sy(p.y) - m, 2 * m, 2 * m);
        badge(this.sx(p.x) + m + 2, this.sy(p.y) - 2, queue.get(p.id) ?? 0);
      }
      n++;
    }
    for (const b of this.equipment.belts) {
      const r = b.rect;
      ctx.strokeStyle = this.deviceColor(b.id);
      ctx.lineWidth = this.selected === b.id ? 4 : 1.5;
      ctx.beginPath();
      const pad = Math.max(2, s * 0.35);
      if (b.kind === 'loop') ctx.rect(this.sx(r.x) - pad, this.sy(r.y + r.h) - pad, r.w * s + 2 * pad, r.h * s + 2 * pad);
      else {
        ctx.moveTo(this.sx(r.x), this.sy(r.y) - pad);
        ctx.lineTo(this.sx(r.x + r.w), this.sy(r.y) - pad);
      }
      ctx.stroke();
      n++;
    }
    for (const a of this.equipment.arms) {
      const m = Math.max(5, s * 0.7);
      const x = this.sx(a.x);
      const y = this.sy(a.y);
      ctx.fillStyle = COLORS.station;
      ctx.fillRect(x - m, y - m, 2 * m, 2 * m);
      ctx.strokeStyle = this.deviceColor(a.id);
      ctx.lineWidth = this.selected === a.id ? 4 : 2.5;
      ctx.strokeRect(x - m, y - m, 2 * m, 2 * m);
      ctx.fillStyle = COLORS.label;
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillText(a.id, x + m + 3, y + 4);
      badge(x + m + 3, y - m, queue.get(a.stationId) ?? 0);
      n++;
    }
    return n;
  }

  /** Totes riding a conveyor, placed by how long their move has run at the belt's speed (an estimate). */
  private drawTotes(ctx: CanvasRenderingContext2D): void {
    const wallNow = Date.now();
    const m = Math.max(2.5, this.scale * 0.28);
    ctx.fillStyle = COLORS.tote;
    for (const t of this.tasks) {
      if (!t.kind.startsWith('conveyor.') || (t.state !== 'RUNNING' && t.state !== 'DISPATCHED')) continue;
      const belt = this.equipment.belts.find((b) => b.id === (t.deviceId ?? t.plan.deviceId)) ?? this.equipment.belts[0];
      if (!belt) continue;
      const toStation = t.kind === 'conveyor.toStation';
      const from = belt.stops.get((toStation ? t.plan.portId : t.plan.stationId) ?? '');
      const to = belt.stops.get((toStation ? t.plan.stationId : t.plan.portId) ?? '');
      if (from === undefined || to === undefined) continue;
      const dist = belt.kind === 'loop' ? (to - from + belt.length) % belt.length : Math.abs(to - from);
      const run = t.state === 'RUNNING' ? Math.max(0, (wallNow - t.updatedAt) / 1000) * belt.speed : 0;
      const s = belt.kind === 'loop' ? from + Math.min(dist, run) : from + Math.sign(to - from) * Math.min(dist, run);
      const p = alongBelt(belt, s);
      ctx.fillRect(this.sx(p.x) - m, this.sy(p.y) - m, 2 * m, 2 * m);
    }
  }

  private drawRobots(ctx: CanvasRenderingContext2D, now: number, w: number, h: number): number {
    const rr = this.robotRadius();
    const margin = rr * 3;
    const byTone = new Map<RobotTone, Robot[]>();
    const visible: Robot[] = [];
    for (const r of this.robots.values()) {
      this.place(r, now);
      const x = this.sx(r.x);
      const y = this.sy(r.y);
      if (x < -margin || y < -margin || x > w + margin || y > h + margin) continue;
      visible.push(r);
      const tone = robotTone(r.device);
      let list = byTone.get(tone);
      if (!list) byTone.set(tone, (list = []));
      list.push(r);
    }
    // Reserved paths under the robots, when the core sends them.
    ctx.strokeStyle = COLORS.reserved;
    ctx.lineWidth = Math.max(2, rr * 0.8);
    ctx.lineCap = 'round';
    ctx.beginPath();
    for (const r of visible) {
      const nodes = r.device.reservedNodes ?? r.device.route?.nodes?.slice(0, (r.device.route.releasedUpTo ?? r.device.route.nodes.length - 1) + 1);
      if (!nodes || nodes.length === 0) continue;
      ctx.moveTo(this.sx(r.x), this.sy(r.y));
      for (const id of nodes) {
        const n = this.nodes.get(id);
        if (n) ctx.lineTo(this.sx(n.x), this.sy(n.y));
      }
    }
    ctx.stroke();
    ctx.lineCap = 'butt';
    // One path per colour: 500 robots cost a handful of fills, not 500.
    for (const [tone, list] of byTone) {
      ctx.fillStyle = COLORS.state[tone];
      ctx.beginPath();
      for (const r of list) {
        const x = this.sx(r.x);
        const y = this.sy(r.y);
        ctx.moveTo(x + rr, y);
        ctx.arc(x, y, rr, 0, TAU);
      }
      ctx.fill();
    }
    ctx.strokeStyle = '#0b1015';
    ctx.lineWidth = Math.max(1.5, rr * 0.3);
    ctx.beginPath();
    for (const r of visible) {
      const x = this.sx(r.x);
      const y = this.sy(r.y);
      ctx.moveTo(x, y);
      ctx.lineTo(x + Math.cos(r.theta) * rr, y - Math.sin(r.theta) * rr);
    }
    ctx.stroke();
    // Battery: a bar under each robot, its fill the charge level.
    const bw = rr * 2;
    const bh = Math.max(2, rr * 0.35);
    ctx.fillStyle = '#000000';
    for (const r of visible) ctx.fillRect(this.sx(r.x) - rr, this.sy(r.y) + rr + 2, bw, bh);
    for (const [color, pred] of [
      ['#3ecf8e', (b: number) => b > 50],
      ['#f5c542', (b: number) => b > 20 && b <= 50],
      ['#ff5d5d', (b: number) => b <= 20],
    ] as const) {
      ctx.fillStyle = color;
      for (const r of visible) {
        const b = r.device.battery;
        if (b === null || b === undefined || !pred(b)) continue;
        ctx.fillRect(this.sx(r.x) - rr, this.sy(r.y) + rr + 2, (bw * Math.max(0, Math.min(100, b))) / 100, bh);
      }
    }
    const sel = this.selected ? this.robots.get(this.selected) : undefined;
    if (sel) {
      ctx.strokeStyle = COLORS.selected;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(this.sx(sel.x), this.sy(sel.y), rr + 4, 0, TAU);
      ctx.stroke();
    }
    if (this.scale >= 22 && visible.length <= 150) {
      ctx.fillStyle = COLORS.label;
      ctx.font = '11px system-ui, sans-serif';
      for (const r of visible) ctx.fillText(r.id, this.sx(r.x) + rr + 3, this.sy(r.y) - rr);
    }
    return this.robots.size;
  }
}
