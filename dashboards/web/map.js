/* global window, ResizeObserver */
// Draws the site's route graph and the AMRs on a canvas. Metres in, pixels out.

const COLORS = {
  edge: '#2a3642',
  node: '#3a4856',
  zone: { amr: '#31506b', asrs: '#5b4a2e', pack: '#4b3a6b', charge: '#5e5420' },
  station: '#9b7bff',
  charger: '#f5c542',
  label: '#8a99a8',
  amr: { idle: '#3ecf8e', busy: '#4fb3ff', charging: '#f5c542', bad: '#ff6b6b' },
};

/** Buckets the many device states into the four colours of the legend. */
export function amrTone(state) {
  const s = String(state ?? '').toUpperCase();
  if (/ERROR|FAULT|FAIL|OFFLINE|BROKEN|DISCONNECT|OUT_OF_SERVICE|EMERGENCY/.test(s)) return 'bad';
  if (/CHARG/.test(s)) return 'charging';
  if (/IDLE|READY|AVAILABLE/.test(s) || s === '') return 'idle';
  return 'busy';
}

export function createFloorMap(canvas) {
  const ctx = canvas.getContext('2d');
  let layout;
  let nodesById = new Map();
  let robots = [];
  let frame = 0;

  const transform = () => {
    const nodes = layout?.graph?.nodes ?? [];
    const xs = nodes.map((n) => n.x);
    const ys = nodes.map((n) => n.y);
    for (const r of robots) {
      xs.push(r.position.x);
      ys.push(r.position.y);
    }
    if (xs.length === 0) return undefined;
    const minX = Math.min(...xs);
    const maxX = Math.max(...xs);
    const minY = Math.min(...ys);
    const maxY = Math.max(...ys);
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    const pad = 24;
    const scale = Math.min((w - 2 * pad) / Math.max(maxX - minX, 1), (h - 2 * pad) / Math.max(maxY - minY, 1));
    const offX = (w - (maxX - minX) * scale) / 2;
    const offY = (h - (maxY - minY) * scale) / 2;
    // The floor's y axis points up; the canvas's points down.
    return { scale, px: (x) => offX + (x - minX) * scale, py: (y) => h - offY - (y - minY) * scale };
  };

  const draw = () => {
    frame = 0;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const t = transform();
    if (!t) {
      ctx.fillStyle = COLORS.label;
      ctx.font = '13px system-ui, sans-serif';
      ctx.fillText('No site layout loaded yet', 16, 24);
      return;
    }
    const { px, py, scale } = t;
    const r = Math.max(2, Math.min(6, scale * 0.15));
    // Labels only where the grid leaves room for them; otherwise they pile up into noise.
    const roomForLabels = scale >= 28;

    ctx.strokeStyle = COLORS.edge;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const e of layout?.graph?.edges ?? []) {
      const a = nodesById.get(e.from);
      const b = nodesById.get(e.to);
      if (!a || !b) continue;
      ctx.moveTo(px(a.x), py(a.y));
      ctx.lineTo(px(b.x), py(b.y));
    }
    ctx.stroke();

    for (const n of layout?.graph?.nodes ?? []) {
      ctx.fillStyle = COLORS.zone[n.zone] ?? COLORS.node;
      ctx.fillRect(px(n.x) - r, py(n.y) - r, 2 * r, 2 * r);
    }

    const square = (nodeId, color, label) => {
      const n = nodesById.get(nodeId);
      if (!n) return;
      const s = r * 2.2;
      ctx.fillStyle = color;
      ctx.fillRect(px(n.x) - s, py(n.y) - s, 2 * s, 2 * s);
      if (!roomForLabels) return;
      ctx.fillStyle = COLORS.label;
      ctx.font = '10px system-ui, sans-serif';
      ctx.fillText(label, px(n.x) + s + 2, py(n.y) - s);
    };
    for (const s of layout?.stations ?? []) if (s.nodeId) square(s.nodeId, COLORS.station, s.id);
    for (const c of layout?.chargers ?? []) square(c.nodeId, COLORS.charger, c.id);

    for (const robot of robots) {
      const x = px(robot.position.x);
      const y = py(robot.position.y);
      const size = Math.max(5, Math.min(10, scale * 0.4));
      ctx.fillStyle = COLORS.amr[amrTone(robot.state)];
      ctx.beginPath();
      ctx.arc(x, y, size, 0, 2 * Math.PI);
      ctx.fill();
      const theta = robot.position.theta ?? 0;
      ctx.strokeStyle = '#0b1015';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + Math.cos(theta) * size, y - Math.sin(theta) * size);
      ctx.stroke();
      if (roomForLabels) {
        ctx.fillStyle = COLORS.label;
        ctx.font = '10px system-ui, sans-serif';
        ctx.fillText(robot.id, x + size + 2, y + 3);
      }
    }
  };

  // Coalesces bursts of updates into one paint per animation frame.
  const schedule = () => {
    if (!frame) frame = window.requestAnimationFrame(draw);
  };
  new ResizeObserver(schedule).observe(canvas);

  return {
    setLayout(next) {
      layout = next;
      nodesById = new Map((next?.graph?.nodes ?? []).map((n) => [n.id, n]));
      schedule();
    },
    setDevices(devices) {
      robots = devices.filter((d) => d.class === 'amr' && d.position && Number.isFinite(d.position.x));
      schedule();
    },
  };
}
