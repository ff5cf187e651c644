/**
 * Where a tote on its way to an arm station can go instead (issue "Execution" item 6: totes
 * re-routed where a route exists). Pure: the caller says which arms can work and how busy each
 * station is.
 */
import type { SiteLayout } from './site-layout.js';

export interface StationChoice {
  stationId: string;
  armId: string;
}

/**
 * The least busy other arm station the same conveyor reaches, whose arm can work; ties go to
 * the station id for a stable answer. Undefined when there is none: the tote waits for its own.
 */
export function alternativeStation(
  layout: SiteLayout,
  q: { conveyorId: string; avoid: string; armWorks: (armId: string) => boolean; load: (stationId: string) => number },
): StationChoice | undefined {
  const conveyor = layout.devices.conveyors.find((c) => c.id === q.conveyorId);
  if (!conveyor) return undefined;
  const stops = new Set(conveyor.stops.map((s) => s.id));
  const candidates = layout.stations
    .filter((st) => st.kind === 'arm' && st.armId !== undefined && st.id !== q.avoid && stops.has(st.id) && q.armWorks(st.armId))
    .map((st) => ({ stationId: st.id, armId: st.armId as string, load: q.load(st.id) }))
    .sort((a, b) => a.load - b.load || (a.stationId < b.stationId ? -1 : a.stationId > b.stationId ? 1 : 0));
  const best = candidates[0];
  return best && { stationId: best.stationId, armId: best.armId };
}

/** The arm of an arm station, if the layout has one there. */
export function armOfStation(layout: SiteLayout, stationId: string): string | undefined {
  return layout.stations.find((st) => st.id === stationId && st.kind === 'arm')?.armId;
}

/** The stop a conveyor says it delivered a tote to (`load=… at=<stop>` in the result). */
export function deliveredAt(resultDescription: string | undefined): string | undefined {
  return resultDescription?.match(/(?:^|\s)at=(\S+)/)?.[1];
}
