import type { SiteLayout } from '../domain/site-layout.js';
import type { Store } from '../ports.js';

/**
 * The first start of a data dir loads the layout's SKU catalogue and opening stock, journaled as
 * receipts so the stock-conservation invariant (DESIGN §4) has its starting point. Later starts
 * keep the store's stock: it has moved on since.
 */
export function seedFromLayout(store: Store, layout: SiteLayout): { seeded: boolean; skus: number; positions: number } {
  if (store.countSkus() > 0) {
    for (const s of layout.skus) if (!store.skuExists(s.sku)) store.upsertSku(s);
    return { seeded: false, skus: store.countSkus(), positions: 0 };
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
  });
  return { seeded: true, skus: layout.skus.length, positions: layout.stock.length };
}
