import type { ConveyorSpec, SiteLayout } from './site-layout.js';

export interface LayoutProblem {
  path: string;
  problem: string;
}

/**
 * Cross-reference checks the JSON schema cannot express: every id a layout mentions must exist,
 * ids must be unique, and each zone must be reachable the way execution plans will use it.
 */
export function checkLayoutReferences(layout: SiteLayout): LayoutProblem[] {
  const problems: LayoutProblem[] = [];
  const nodeIds = uniqueIds(layout.graph.nodes, '/graph/nodes', problems);
  uniqueIds(layout.graph.edges, '/graph/edges', problems);
  const locationIds = uniqueIds(layout.locations, '/locations', problems);
  const stationIds = uniqueIds(layout.stations, '/stations', problems);
  const asrsIds = uniqueIds(layout.devices.asrs, '/devices/asrs', problems);
  const conveyorIds = uniqueIds(layout.devices.conveyors, '/devices/conveyors', problems);
  const armIds = uniqueIds(layout.devices.arms, '/devices/arms', problems);
  const skus = new Set<string>();
  layout.skus.forEach((s, i) => {
    if (skus.has(s.sku)) problems.push({ path: `/skus/${i}/sku`, problem: `duplicate sku ${s.sku}` });
    skus.add(s.sku);
  });
  const need = (set: Set<string>, id: string | undefined, path: string, what: string): void => {
    if (id !== undefined && !set.has(id)) problems.push({ path, problem: `unknown ${what} ${id}` });
  };
  layout.graph.edges.forEach((e, i) => {
    need(nodeIds, e.from, `/graph/edges/${i}/from`, 'node');
    need(nodeIds, e.to, `/graph/edges/${i}/to`, 'node');
  });
  layout.locations.forEach((l, i) => {
    if (l.zone === 'amr') {
      if (l.nodeId === undefined) problems.push({ path: `/locations/${i}/nodeId`, problem: 'an AMR-zone location needs nodeId' });
      need(nodeIds, l.nodeId, `/locations/${i}/nodeId`, 'node');
    } else {
      if (l.asrsId === undefined) problems.push({ path: `/locations/${i}/asrsId`, problem: 'an AS/RS location needs asrsId' });
      need(asrsIds, l.asrsId, `/locations/${i}/asrsId`, 'AS/RS');
      if (l.mobile === true) problems.push({ path: `/locations/${i}/mobile`, problem: 'only AMR-zone locations can be mobile pods' });
    }
  });
  layout.stock.forEach((s, i) => {
    need(skus, s.sku, `/stock/${i}/sku`, 'sku');
    need(locationIds, s.location, `/stock/${i}/location`, 'location');
  });
  layout.stations.forEach((s, i) => {
    need(nodeIds, s.nodeId, `/stations/${i}/nodeId`, 'node');
    need(armIds, s.armId, `/stations/${i}/armId`, 'arm');
    if (s.kind === 'pack' && s.nodeId === undefined) problems.push({ path: `/stations/${i}/nodeId`, problem: 'a pack station needs nodeId' });
    if (s.kind === 'arm' && s.armId === undefined) problems.push({ path: `/stations/${i}/armId`, problem: 'an arm station needs armId' });
    const queue = new Set<string>();
    s.queueNodes?.forEach((n, j) => {
      const path = `/stations/${i}/queueNodes/${j}`;
      need(nodeIds, n, path, 'node');
      if (n === s.nodeId) problems.push({ path, problem: `the station's own node ${n} cannot be in its queue` });
      if (queue.has(n)) problems.push({ path, problem: `node ${n} appears twice in the queue` });
      queue.add(n);
    });
  });
  layout.chargers.forEach((c, i) => need(nodeIds, c.nodeId, `/chargers/${i}/nodeId`, 'node'));
  layout.devices.amrs.forEach((a, i) => need(nodeIds, a.startNode, `/devices/amrs/${i}/startNode`, 'node'));
  layout.devices.asrs.forEach((a, i) =>
    a.ports.forEach((p, j) => need(conveyorIds, p.conveyorId, `/devices/asrs/${i}/ports/${j}/conveyorId`, 'conveyor')),
  );
  layout.devices.arms.forEach((a, i) => need(stationIds, a.stationId, `/devices/arms/${i}/stationId`, 'station'));
  layout.devices.conveyors.forEach((c, i) =>
    c.stops.forEach((s, j) => {
      if (s.at > c.length) problems.push({ path: `/devices/conveyors/${i}/stops/${j}/at`, problem: `beyond the belt length ${c.length}` });
    }),
  );
  layout.devices.conveyors.forEach((c, i) => checkBranches(c, `/devices/conveyors/${i}`, problems));
  if (layout.network) checkNetwork(layout, skus, problems);
  return problems;
}

function checkNetwork(layout: SiteLayout, skus: Set<string>, problems: LayoutProblem[]): void {
  const network = layout.network;
  if (!network) return;
  uniqueIds(network.sites, '/network/sites', problems);
  if (!network.sites.some((s) => s.id === layout.site.id)) {
    problems.push({ path: '/network/sites', problem: `the network must include this layout's own site ${layout.site.id}` });
  }
  network.sites.forEach((s, i) => {
    const path = `/network/sites/${i}`;
    const home = s.id === layout.site.id;
    if (!home && (s.lat === undefined || s.lon === undefined)) problems.push({ path, problem: `site ${s.id} needs lat and lon` });
    if (home && s.stock !== undefined) problems.push({ path: `${path}/stock`, problem: "this layout's own site keeps its stock in /stock, per location" });
    uniqueIds(s.carriers, `${path}/carriers`, problems);
    s.carriers.forEach((c, j) => {
      if (s.co2GramsPerKm[c.mode] === undefined) problems.push({ path: `${path}/co2GramsPerKm`, problem: `no CO2 figure for mode ${c.mode} of carrier ${s.carriers[j]?.id ?? c.id}` });
    });
    s.stock?.forEach((p, j) => {
      if (!skus.has(p.sku)) problems.push({ path: `${path}/stock/${j}/sku`, problem: `unknown sku ${p.sku}` });
    });
  });
}

function checkBranches(conveyor: ConveyorSpec, path: string, problems: LayoutProblem[]): void {
  if (!conveyor.branches) return;
  uniqueIds(conveyor.branches, `${path}/branches`, problems);
  const stops = new Set(conveyor.stops.map((s) => s.id));
  conveyor.branches.forEach((b, j) => {
    if (!stops.has(b.stop)) problems.push({ path: `${path}/branches/${j}/stop`, problem: `unknown stop ${b.stop} of conveyor ${conveyor.id}` });
    if (b.at > conveyor.length) problems.push({ path: `${path}/branches/${j}/at`, problem: `beyond the belt length ${conveyor.length}` });
    if (b.kind === 'divert' && b.mergeGap !== undefined) problems.push({ path: `${path}/branches/${j}/mergeGap`, problem: 'only a merge has a merge gap' });
  });
}

function uniqueIds(items: readonly { id: string }[], path: string, problems: LayoutProblem[]): Set<string> {
  const ids = new Set<string>();
  items.forEach((item, i) => {
    if (ids.has(item.id)) problems.push({ path: `${path}/${i}/id`, problem: `duplicate id ${item.id}` });
    ids.add(item.id);
  });
  return ids;
}
