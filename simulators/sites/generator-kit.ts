/**
 * Small building blocks shared by the seeded layout generators: a catalogue, a shuffle, grid
 * graph helpers and a home-only sourcing network. Everything is deterministic from the Rng given.
 */
import { writeFileSync } from 'node:fs';
import type { SiteLayout } from '../../src/index.js';
import type { Rng } from '../random.js';
import { formatLayoutJson } from './generate-demo.js';

export const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

export function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const ADJECTIVES = ['Blue', 'Compact', 'Sturdy', 'Organic', 'Classic', 'Mini', 'Deluxe', 'Eco', 'Smart', 'Rugged', 'Soft', 'Bright', 'Travel', 'Kids'];
const NOUNS = ['Mug', 'Notebook', 'Cable', 'Lamp', 'Bottle', 'Charger', 'Towel', 'Brush', 'Speaker', 'Backpack', 'Candle', 'Glove', 'Tape', 'Socket', 'Puzzle', 'Sock'];

/**
 * `count` SKUs listed best seller first: `SKU-0001` is popularity rank 1. Generators slot by this
 * rank and the order generators draw by it, so the two agree on what "fast mover" means.
 */
export function makeCatalogue(rng: Rng, count: number): SiteLayout['skus'] {
  return Array.from({ length: count }, (_, i) => ({
    sku: `SKU-${pad(i + 1, 4)}`,
    name: `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)} ${i + 1}`,
    unitPrice: Math.round(rng.uniform(1.5, 80)) - 0.01,
  }));
}

/** A network of this site alone, with its real shipping capacity and two road carriers. */
export function homeNetwork(layoutSite: SiteLayout['site'], capacityPerHour: number): NonNullable<SiteLayout['network']> {
  return {
    sites: [
      {
        id: layoutSite.id,
        name: layoutSite.name,
        utcOffsetMinutes: 60,
        handlingCostPerUnit: 0.9,
        capacityPerHour,
        replenishmentDays: 5,
        co2GramsPerKm: { road: 900 },
        carriers: [
          { id: 'parcel-std', mode: 'road', cutoff: '18:00', costPerShipment: 3.9, costPerKm: 0.002, kmPerDay: 600, minTransitDays: 1 },
          { id: 'parcel-late', mode: 'road', cutoff: '21:30', costPerShipment: 5.5, costPerKm: 0.003, kmPerDay: 800, minTransitDays: 1 },
        ],
        countries: ['DE', 'NL', 'AT', 'DK'],
      },
    ],
  };
}

export function writeLayout(path: string, layout: SiteLayout): void {
  writeFileSync(path, `${formatLayoutJson(layout)}\n`);
}
