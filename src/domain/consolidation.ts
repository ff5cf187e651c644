/**
 * Consolidation at the pack station (issue 4 item 1): an order's totes come to the pack station
 * one by one — an AMR trip drops its tote there, an arm station's order tote is taken over from
 * the arm — and the order's shipment at a site is packed only once every line the site still owes
 * is there. Pure: the caller passes the order's lines and which of them have arrived.
 *
 * Which lines a shipment waits for: the lines of the order sourced to this site that are still on
 * their way to packing (SOURCED, RELEASED, PICKING, or PICKED and not arrived yet). Lines that
 * cannot come now (BACKORDERED, UNROUTABLE, back in sourcing as CREATED, or sourced to another
 * site) do not hold the parcel back: they ship in a later parcel once they arrive. Canceled lines
 * and lines already in a shipment are done with here.
 */
import type { LineState } from './line-machine.js';

/** Lines the site's floor is still bringing to the pack station. */
const ON_THEIR_WAY: readonly LineState[] = ['SOURCED', 'RELEASED', 'PICKING', 'PICKED'];

export interface ConsolidationLine {
  id: string;
  state: LineState;
  site: string | undefined;
  quantity: number;
}

/** A line's tote at the pack station: where and since when (a future time: it is still on its way). */
export interface Arrival {
  lineId: string;
  stationId: string;
  arrivedAt: number;
}

export type ConsolidationVerdict =
  /** No tote of the order is waiting at this site. */
  | { kind: 'idle' }
  /** Some totes are there; these lines are still on their way. */
  | { kind: 'waiting'; arrived: string[]; waitingFor: string[] }
  /** Everything the site owes is there: pack these lines at `stationId`, starting at `startAt`. */
  | { kind: 'ready'; lineIds: string[]; units: number; stationId: string; startAt: number };

/**
 * The verdict for one order at one site. `arrivals` are the order's totes not yet in a shipment;
 * an arrival of a line that is no longer PICKED (canceled since) is ignored.
 */
export function consolidate(site: string, lines: readonly ConsolidationLine[], arrivals: readonly Arrival[]): ConsolidationVerdict {
  const here = lines.filter((l) => l.site === site);
  const arrivedById = new Map(arrivals.map((a) => [a.lineId, a]));
  const arrived = here.filter((l) => l.state === 'PICKED' && arrivedById.has(l.id));
  if (arrived.length === 0) return { kind: 'idle' };
  const waitingFor = here.filter((l) => ON_THEIR_WAY.includes(l.state) && !arrivedById.has(l.id)).map((l) => l.id);
  if (waitingFor.length > 0) return { kind: 'waiting', arrived: arrived.map((l) => l.id), waitingFor };
  const present = arrived.map((l) => arrivedById.get(l.id) as Arrival);
  return {
    kind: 'ready',
    lineIds: arrived.map((l) => l.id),
    units: arrived.reduce((n, l) => n + l.quantity, 0),
    stationId: packStationOf(present),
    // Packing starts when the last tote is there.
    startAt: Math.max(...present.map((a) => a.arrivedAt)),
  };
}

/**
 * Where the parcel is packed when totes went to different stations (a floor with several pack
 * stations, a plan made before a restart lost the order's station): the station holding most of
 * them, the latest arrival breaking a tie — the others are walked over, which the pack time covers.
 */
export function packStationOf(arrivals: readonly Arrival[]): string {
  const count = new Map<string, { n: number; last: number }>();
  for (const a of arrivals) {
    const c = count.get(a.stationId) ?? { n: 0, last: -Infinity };
    count.set(a.stationId, { n: c.n + 1, last: Math.max(c.last, a.arrivedAt) });
  }
  let best: string | undefined;
  for (const [id, c] of count) {
    const b = best === undefined ? undefined : count.get(best);
    if (!b || c.n > b.n || (c.n === b.n && c.last > b.last)) best = id;
  }
  return best ?? '';
}

/**
 * The carrier sourcing chose for these lines at `site`: from the order's latest journaled
 * sourcing decision that ships one of them from there, else from one shipping any line of the
 * order from there; undefined when no decision names one (then the site's first carrier serves).
 */
export function carrierChosen(
  events: readonly { type: string; data: Record<string, unknown> }[],
  site: string,
  lineIds: readonly string[],
): string | undefined {
  let sibling: string | undefined;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e?.type !== 'order.sourcingDecided') continue;
    const chosen = e.data.chosen as { shipments?: unknown[] } | null | undefined;
    for (const s of chosen?.shipments ?? []) {
      const r = s as { site?: unknown; carrier?: unknown; lineIds?: unknown };
      if (r.site !== site || typeof r.carrier !== 'string') continue;
      const ids = Array.isArray(r.lineIds) ? r.lineIds : [];
      if (ids.some((id) => lineIds.includes(id as string))) return r.carrier;
      sibling ??= r.carrier;
    }
  }
  return sibling;
}
