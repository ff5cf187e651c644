import { describe, expect, it } from 'vitest';
import { carrierChosen, consolidate, packStationOf, type Arrival, type ConsolidationLine } from './consolidation.js';
import type { LineState } from './line-machine.js';

const SITE = 'dortmund';
const line = (id: string, state: LineState, site: string | undefined = SITE, quantity = 1): ConsolidationLine => ({ id, state, site, quantity });
const at = (lineId: string, arrivedAt: number, stationId = 'pack-1'): Arrival => ({ lineId, stationId, arrivedAt });

describe('consolidate', () => {
  it('is idle while no tote of the order is at the pack station', () => {
    expect(consolidate(SITE, [line('a', 'PICKED'), line('b', 'RELEASED')], [])).toEqual({ kind: 'idle' });
  });

  it('waits for a line still being picked, and for a picked line whose tote has not arrived', () => {
    expect(consolidate(SITE, [line('a', 'PICKED'), line('b', 'PICKING')], [at('a', 10)])).toEqual({ kind: 'waiting', arrived: ['a'], waitingFor: ['b'] });
    // An AMR line turns PICKED at the shelf: its tote is on the vehicle until the drop.
    expect(consolidate(SITE, [line('a', 'PICKED'), line('b', 'PICKED')], [at('a', 10)])).toMatchObject({ kind: 'waiting', waitingFor: ['b'] });
    expect(consolidate(SITE, [line('a', 'PICKED'), line('b', 'SOURCED')], [at('a', 10)])).toMatchObject({ kind: 'waiting', waitingFor: ['b'] });
  });

  it('is ready once every line the site owes is there: packs them at the station, from the last arrival', () => {
    const v = consolidate(SITE, [line('a', 'PICKED', SITE, 2), line('b', 'PICKED', SITE, 3)], [at('a', 10), at('b', 25)]);
    expect(v).toEqual({ kind: 'ready', lineIds: ['a', 'b'], units: 5, stationId: 'pack-1', startAt: 25 });
  });

  it('does not wait for canceled, backordered, unroutable or re-sourcing lines, nor for lines of other sites', () => {
    const lines = [line('a', 'PICKED'), line('c', 'CANCELED'), line('d', 'BACKORDERED', undefined), line('e', 'UNROUTABLE', undefined), line('f', 'CREATED', undefined), line('g', 'RELEASED', 'hamburg')];
    expect(consolidate(SITE, lines, [at('a', 10)])).toMatchObject({ kind: 'ready', lineIds: ['a'], units: 1 });
  });

  it('ignores the arrival of a line that is no longer PICKED (canceled at the station) and lines already packed', () => {
    expect(consolidate(SITE, [line('a', 'CANCELED'), line('b', 'PICKING')], [at('a', 10)])).toEqual({ kind: 'idle' });
    // Lines already in a parcel (PACKED and later) are not arrivals any more and hold nothing back.
    expect(consolidate(SITE, [line('a', 'PACKED'), line('b', 'PICKED')], [at('b', 10)])).toMatchObject({ kind: 'ready', lineIds: ['b'] });
  });

  it('only counts arrivals of its own site', () => {
    expect(consolidate(SITE, [line('a', 'PICKED', 'hamburg')], [at('a', 10)])).toEqual({ kind: 'idle' });
  });
});

describe('packStationOf', () => {
  it('packs where most totes are, the latest arrival breaking a tie', () => {
    expect(packStationOf([at('a', 1, 'st-1'), at('b', 2, 'st-2'), at('c', 3, 'st-2')])).toBe('st-2');
    expect(packStationOf([at('a', 5, 'st-1'), at('b', 2, 'st-2')])).toBe('st-1');
  });
});

describe('carrierChosen', () => {
  const decided = (shipments: { site: string; carrier: string; lineIds: string[] }[]) => ({ type: 'order.sourcingDecided', data: { chosen: { shipments } } });

  it("takes the latest sourcing decision that ships the parcel's lines from the site", () => {
    const events = [
      decided([{ site: SITE, carrier: 'road', lineIds: ['a', 'b'] }]),
      { type: 'line.picked', data: {} },
      decided([{ site: SITE, carrier: 'express', lineIds: ['b'] }, { site: 'hamburg', carrier: 'rail', lineIds: ['c'] }]),
    ];
    expect(carrierChosen(events, SITE, ['a'])).toBe('road');
    expect(carrierChosen(events, SITE, ['b'])).toBe('express');
    expect(carrierChosen(events, 'hamburg', ['c'])).toBe('rail');
  });

  it("falls back to a sibling's carrier at the same site, else nothing", () => {
    const events = [decided([{ site: SITE, carrier: 'road', lineIds: ['a'] }])];
    expect(carrierChosen(events, SITE, ['z'])).toBe('road');
    expect(carrierChosen(events, 'hamburg', ['a'])).toBeUndefined();
    expect(carrierChosen([{ type: 'order.sourcingDecided', data: { chosen: null } }], SITE, ['a'])).toBeUndefined();
  });
});
