/**
 * The order body channels post (DESIGN §9), as a TypeBox schema: validated at the HTTP edge,
 * typed everywhere else. Semantic checks (known SKUs, limits) happen at intake.
 */
import Type, { type Static } from 'typebox';

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

export const ShipToSchema = Type.Object(
  {
    name: Text(200),
    line1: Text(200),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Text(100),
    postalCode: Text(20),
    country: Type.String({ minLength: 2, maxLength: 2, pattern: '^[A-Za-z]{2}$' }),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  },
  { additionalProperties: false },
);

export const OrderLineInputSchema = Type.Object(
  {
    sku: Text(64),
    quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  },
  { additionalProperties: false },
);

export const OrderInputSchema = Type.Object(
  {
    channel: Text(64),
    externalId: Type.Optional(Text(128)),
    customer: Type.Object(
      { id: Text(128), email: Type.Optional(Type.String({ maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' })) },
      { additionalProperties: false },
    ),
    shipTo: ShipToSchema,
    lines: Type.Array(OrderLineInputSchema, { minItems: 1, maxItems: 500 }),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 9 })),
    promisedBy: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

export type OrderInputBody = Static<typeof OrderInputSchema>;

/** Lines naming the same SKU are one demand: merge them, keeping first-seen order. */
export function mergeLines(lines: readonly { sku: string; quantity: number }[]): { sku: string; quantity: number; paths: number[] }[] {
  const merged = new Map<string, { sku: string; quantity: number; paths: number[] }>();
  lines.forEach((l, i) => {
    const m = merged.get(l.sku);
    if (m) {
      m.quantity += l.quantity;
      m.paths.push(i);
    } else merged.set(l.sku, { sku: l.sku, quantity: l.quantity, paths: [i] });
  });
  return [...merged.values()];
}
