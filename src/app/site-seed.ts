import { REMOTE_LOCATION } from '../domain/records.js';
import type { SiteLayout } from '../domain/site-layout.js';
import type { Store } from '../ports.js';

/**
 * The first start of a data dir loads the layout's SKU catalogue and opening stock, journaled as
 * receipts so the stock-conservation invariant (DESIGN §4) has its starting point. Later starts
 * keep the store's stock: it has moved on since.
 */
export function seedFromLayout(store: Store, layout: SiteLayout): { seeded: boolean; skus: number; positions: number } {
  if (store.countSkus() > 0) {
    let positions = 0;
    store.tx(() => {
      for (const s of layout.skus) if (!store.skuExists(s.sku)) store.upsertSku(s);
      // A site added to the network later brings its opening stock once.
      positions = seedNetworkStock(store, layout);
    });
    return { seeded: false, skus: store.countSkus(), positions };
  }
  const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
  store.tx(() => {
    for (const s of layout.skus) store.upsertSku(s);
    for (const p of layout.stock) {
      const zone = zoneOf.get(p.location) ?? 'amr';
      store.insertStock({ site: layout.site.id, location: p.location, sku: p.sku, zone, onHand: p.onHand, reserved: 0, safetyStock: p.safetyStock ?? 0 });
      store.appendEvent({
        type: 'stock.received',
        aggregateType: 'stock',
        aggregateId: `${layout.site.id}/${p.location}/${p.sku}`,
        orderId: undefined,
        actor: 'site-seed',
        data: { sku: p.sku, quantity: p.onHand, location: p.location, reason: 'opening stock from the site layout' },
      });
    }
    seedNetworkStock(store, layout);
  });
  return { seeded: true, skus: layout.skus.length, positions: layout.stock.length };
}

/** Opening stock of the network's other sites, one position per SKU; positions already known are left alone. */
function seedNetworkStock(store: Store, layout: SiteLayout): number {
  let added = 0;
  for (const site of layout.network?.sites ?? []) {
    if (site.id === layout.site.id) continue;
    for (const p of site.stock ?? []) {
      if (store.stockOf(p.sku).some((s) => s.site === site.id && s.location === REMOTE_LOCATION)) continue;
      store.insertStock({ site: site.id, location: REMOTE_LOCATION, sku: p.sku, zone: 'remote', onHand: p.onHand, reserved: 0, safetyStock: p.safetyStock ?? 0 });
      store.appendEvent({
        type: 'stock.received',
        aggregateType: 'stock',
        aggregateId: `${site.id}/${REMOTE_LOCATION}/${p.sku}`,
        orderId: undefined,
        actor: 'site-seed',
        data: { sku: p.sku, quantity: p.onHand, location: REMOTE_LOCATION, reason: `opening stock of network site ${site.id} from the site layout` },
      });
      added++;
    }
  }
  return added;
}
