/**
 * Turns a sourced line into device tasks, by the zone its stock sits in (DESIGN §2):
 * - AMR zone: one pick trip — travel to the storage node, pick, travel to the pack station, drop.
 * - AS/RS zone: retrieve the bin to a port, convey it to an arm station, the arm picks into the
 *   order tote, then the bin rides back and is stored again.
 * Pure: which port and station to use is decided from the load counts the caller passes in.
 */
import type { SiteLayout, StorageLocation } from './site-layout.js';
import type { DeviceClass, TaskKind, TaskPlan, TaskRecord, TaskState } from './records.js';

export interface TaskDraft {
  step: number;
  kind: TaskKind;
  deviceClass: DeviceClass;
  /** Known at planning time for fixed equipment; AMRs are chosen when dispatched. */
  deviceId: string | undefined;
  loadId: string | undefined;
  plan: TaskPlan;
}

export interface PlanInput {
  lineId: string;
  orderId: string;
  sku: string;
  quantity: number;
  location: StorageLocation;
  /** Active task counts per port and per arm station, to spread the work. */
  portLoad: ReadonlyMap<string, number>;
  stationLoad: ReadonlyMap<string, number>;
  /** The pack station the order's other lines go to: its totes consolidate there. */
  packStationId?: string | undefined;
}

export class PlanningError extends Error {
  override readonly name = 'PlanningError';
}

export function toteIdFor(orderId: string): string {
  return `TOTE-${orderId}`;
}

export function planLine(layout: SiteLayout, input: PlanInput): TaskDraft[] {
  return input.location.zone === 'amr' ? planAmrTrip(layout, input) : planAsrsFlow(layout, input);
}

/**
 * The order's pack station when it has one, else the least used: a floor with several stations
 * (rmfs-large has seven) would otherwise queue every trip at the first.
 */
function choosePackStation(layout: SiteLayout, input: PlanInput): SiteLayout['stations'][number] | undefined {
  const packs = layout.stations.filter((s) => s.kind === 'pack' && s.nodeId !== undefined);
  const same = packs.find((s) => s.id === input.packStationId);
  if (same) return same;
  let best = packs[0];
  for (const s of packs) if ((input.stationLoad.get(s.id) ?? 0) < (input.stationLoad.get(best?.id ?? '') ?? 0)) best = s;
  return best;
}

function planAmrTrip(layout: SiteLayout, input: PlanInput): TaskDraft[] {
  const pack = choosePackStation(layout, input);
  if (!pack?.nodeId) throw new PlanningError('the site has no pack station on the route graph');
  if (!input.location.nodeId) throw new PlanningError(`location ${input.location.id} has no graph node`);
  return [
    {
      step: 0,
      kind: 'amr.pickTrip',
      deviceClass: 'amr',
      deviceId: undefined,
      loadId: undefined,
      plan: {
        sku: input.sku,
        quantity: input.quantity,
        location: input.location.id,
        pickNodeId: input.location.nodeId,
        dropNodeId: pack.nodeId,
        stationId: pack.id,
        toteId: toteIdFor(input.orderId),
      },
    },
  ];
}

function planAsrsFlow(layout: SiteLayout, input: PlanInput): TaskDraft[] {
  const { location } = input;
  const asrs = layout.devices.asrs.find((a) => a.id === location.asrsId);
  if (!asrs) throw new PlanningError(`location ${location.id} names no known AS/RS`);
  const binId = location.binId ?? `BIN-${location.id}`;
  const routes = asrs.ports.flatMap((port) => {
    const conveyor = layout.devices.conveyors.find((c) => c.id === port.conveyorId);
    if (!conveyor || !conveyor.stops.some((s) => s.id === port.id)) return [];
    return layout.stations
      .filter((st) => st.kind === 'arm' && st.armId !== undefined && conveyor.stops.some((s) => s.id === st.id))
      .map((station) => ({ port, conveyor, station, armId: station.armId as string }));
  });
  if (routes.length === 0) throw new PlanningError(`no conveyor connects AS/RS ${asrs.id} to an arm station`);
  const load = (r: (typeof routes)[number]): number =>
    (input.portLoad.get(r.port.id) ?? 0) + (input.stationLoad.get(r.station.id) ?? 0);
  const best = routes.reduce((a, b) => (load(b) < load(a) ? b : a));
  const base: TaskPlan = {
    sku: input.sku,
    quantity: input.quantity,
    location: location.id,
    binId,
    portId: best.port.id,
    stationId: best.station.id,
    toteId: toteIdFor(input.orderId),
  };
  const step = (n: number, kind: TaskKind, deviceClass: DeviceClass, deviceId: string): TaskDraft => ({
    step: n,
    kind,
    deviceClass,
    deviceId,
    loadId: binId,
    plan: { ...base, deviceId },
  });
  return [
    step(0, 'asrs.retrieve', 'asrs', asrs.id),
    step(1, 'conveyor.toStation', 'conveyor', best.conveyor.id),
    step(2, 'arm.pick', 'arm', best.armId),
    step(3, 'conveyor.toPort', 'conveyor', best.conveyor.id),
    step(4, 'asrs.store', 'asrs', asrs.id),
  ];
}

/** The step whose completion means the line's goods are picked. */
export function isPickingStep(kind: TaskKind): boolean {
  return kind === 'amr.pickTrip' || kind === 'arm.pick';
}

/** The AS/RS steps that bring a retrieved bin home. */
export const RETURN_KINDS: readonly TaskKind[] = ['conveyor.toPort', 'asrs.store'];
const OPEN: readonly TaskState[] = ['CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED'];

/** The line's current plan: its tasks from the latest step 0 on (earlier attempts are history). */
export function currentPlan(tasks: readonly TaskRecord[]): TaskRecord[] {
  const ordered = [...tasks].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let start = 0;
  ordered.forEach((t, i) => {
    if (t.step === 0) start = i;
  });
  return ordered.slice(start);
}

/**
 * Which open steps of a plan to stop when the line's work is aborted (canceled, or a step
 * failed). A bin that has left storage must still come home, so while `bringBinHome` holds, its
 * return steps survive, and so does a retrieve under way (the crane is holding the bin). When
 * the retrieve has not started, everything stops and the bin never moves.
 */
export function stepsToAbort(plan: readonly TaskRecord[], bringBinHome = true): TaskRecord[] {
  const retrieve = plan.find((t) => t.kind === 'asrs.retrieve');
  const binOut = bringBinHome && retrieve !== undefined && retrieve.state !== 'CREATED';
  return plan.filter((t) => OPEN.includes(t.state) && !(binOut && (RETURN_KINDS.includes(t.kind) || t.kind === 'asrs.retrieve')));
}
