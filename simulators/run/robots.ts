/**
 * `--robots N`: the first N AMRs of a layout, or more by cloning the first AMR's spec onto free
 * nodes. A free node is one no robot starts on, no storage location, station or station queue
 * uses, and outside the zones robots must keep clear (pack); chargers and plain aisle nodes
 * qualify. Picked in a fixed order (chargers first, then by id) so runs stay reproducible.
 */
import type { SiteLayout } from '../../src/index.js';

export function withRobots(layout: SiteLayout, robots: number | undefined): SiteLayout {
  const amrs = layout.devices.amrs;
  if (robots === undefined || robots === amrs.length) return layout;
  if (!Number.isInteger(robots) || robots < 0) throw new RangeError(`--robots must be a whole number >= 0, got ${robots}`);
  if (robots <= amrs.length) return { ...layout, devices: { ...layout.devices, amrs: amrs.slice(0, robots) } };
  const template = amrs[0];
  if (template === undefined) throw new RangeError(`site ${layout.site.id} has no AMR to clone for --robots ${robots}`);
  const taken = new Set<string>(amrs.map((a) => a.startNode));
  for (const l of layout.locations) if (l.nodeId !== undefined) taken.add(l.nodeId);
  for (const s of layout.stations) {
    if (s.nodeId !== undefined) taken.add(s.nodeId);
    for (const q of s.queueNodes ?? []) taken.add(q);
  }
  const chargers = new Set(layout.chargers.map((c) => c.nodeId));
  const free = layout.graph.nodes
    .filter((n) => !taken.has(n.id) && n.zone !== 'pack')
    .sort((a, b) => Number(chargers.has(b.id)) - Number(chargers.has(a.id)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const extra = robots - amrs.length;
  if (free.length < extra) throw new RangeError(`site ${layout.site.id} has room for ${amrs.length + free.length} robots, not ${robots}`);
  const width = String(robots).length;
  const clones = free.slice(0, extra).map((n, i) => ({ ...template, serialNumber: `sim-amr-${String(amrs.length + i + 1).padStart(width, '0')}`, startNode: n.id }));
  return { ...layout, devices: { ...layout.devices, amrs: [...amrs, ...clones] } };
}
