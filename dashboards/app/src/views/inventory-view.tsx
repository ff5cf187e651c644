/** Available-to-promise per SKU and site, kept current by stock events, and the promise for a quantity. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { dateTime, num } from '../format.js';
import { stockVersion } from '../state.js';
import type { Availability, Page, StockPosition } from '../types.js';

interface Row {
  sku: string;
  site: string;
  positions: number;
  onHand: number;
  reserved: number;
  safetyStock: number;
  atp: number;
}

const MAX_POSITIONS = 20_000;

async function loadPositions(sku: string): Promise<StockPosition[]> {
  const out: StockPosition[] = [];
  let cursor: string | null | undefined;
  do {
    const page: Page<StockPosition> = await api<Page<StockPosition>>(`/inventory?limit=1000${sku ? `&sku=${enc(sku)}` : ''}${cursor ? `&cursor=${enc(cursor)}` : ''}`);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && out.length < MAX_POSITIONS);
  return out;
}

function aggregate(positions: readonly StockPosition[]): Row[] {
  const rows = new Map<string, Row>();
  for (const p of positions) {
    const key = `${p.sku}\u0000${p.site}`;
    const r = rows.get(key) ?? { sku: p.sku, site: p.site, positions: 0, onHand: 0, reserved: 0, safetyStock: 0, atp: 0 };
    r.positions += 1;
    r.onHand += p.onHand;
    r.reserved += p.reserved;
    r.safetyStock += p.safetyStock;
    r.atp += p.atp;
    rows.set(key, r);
  }
  return [...rows.values()].sort((a, b) => a.sku.localeCompare(b.sku) || a.site.localeCompare(b.site));
}

function AvailabilityCheck({ sku }: { sku: string }) {
  const [s, setSku] = useState(sku);
  const [qty, setQty] = useState('1');
  const [result, setResult] = useState<Availability | null>(null);
  const [error, setError] = useState('');
  useEffect(() => setSku(sku), [sku]);
  const run = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      setResult(await api<Availability>(`/availability?sku=${enc(s.trim())}&quantity=${enc(qty)}`));
    } catch (err) {
      setResult(null);
      setError((err as Error).message);
    }
  };
  return (
    <section class="panel" aria-labelledby="atp-title">
      <h2 id="atp-title">Promise for a quantity</h2>
      <form class="row" onSubmit={(e) => void run(e)}>
        <label for="atp-sku">SKU</label>
        <input id="atp-sku" value={s} required onInput={(e) => setSku((e.target as HTMLInputElement).value)} />
        <label for="atp-qty">Units</label>
        <input id="atp-qty" type="number" min={1} value={qty} onInput={(e) => setQty((e.target as HTMLInputElement).value)} class="narrow" />
        <button type="submit" class="btn btn-primary">
          Check
        </button>
      </form>
      {error ? <p class="error">{error}</p> : null}
      {result ? (
        <>
          <p>
            {result.earliest ? (
              <>
                Earliest: <strong>{result.earliest.site}</strong>, {result.earliest.promise}, delivered by {dateTime(result.earliest.promiseDate)}
              </>
            ) : (
              'No site can serve this.'
            )}
          </p>
          <table class="grid">
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">ATP</th>
                <th scope="col">Fillable</th>
                <th scope="col">Promise</th>
                <th scope="col">Ships</th>
                <th scope="col">Delivered by</th>
              </tr>
            </thead>
            <tbody>
              {result.sites.map((x) => (
                <tr key={x.site}>
                  <td>
                    {x.name} {x.home ? <span class="muted small">(this site)</span> : null}
                  </td>
                  <td>{num(x.atp)}</td>
                  <td>{num(x.maxFillable)}</td>
                  <td>{x.promise}</td>
                  <td>{dateTime(x.shipsAt)}</td>
                  <td>{dateTime(x.promiseDate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}

export function InventoryView() {
  const [sku, setSku] = useState('');
  const [applied, setApplied] = useState('');
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState('');
  const [picked, setPicked] = useState('');
  const [n, setN] = useState(0);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => {
    let live = true;
    loadPositions(applied).then(
      (p) => live && setRows(aggregate(p)),
      (err: unknown) => live && setError((err as Error).message),
    );
    return () => {
      live = false;
    };
  }, [applied, n]);
  // Stock events arrive with every pick; refetch at most every two seconds while this view is open.
  useEffect(
    () =>
      stockVersion.subscribe(() => {
        if (timer.current !== undefined) return;
        timer.current = window.setTimeout(() => {
          timer.current = undefined;
          setN((x) => x + 1);
        }, 2000);
      }),
    [],
  );
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const sites = [...new Set((rows ?? []).map((r) => r.site))];
  return (
    <div class="split inventory">
      <section class="panel" aria-labelledby="inv-title">
        <header class="panel-head">
          <h2 id="inv-title">
            ATP per SKU and site <span class="muted">({rows?.length ?? 0} rows{sites.length > 1 ? `, ${sites.length} sites` : ''})</span>
          </h2>
          <form
            class="row"
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              setApplied(sku.trim());
            }}
          >
            <label class="sr-only" for="inv-sku">
              SKU
            </label>
            <input id="inv-sku" type="search" placeholder="SKU (exact)" value={sku} onInput={(e) => setSku((e.target as HTMLInputElement).value)} />
            <button type="submit" class="btn btn-primary">
              Filter
            </button>
          </form>
        </header>
        {error ? <p class="error">{error}</p> : null}
        <div class="table-scroll">
          <table class="grid" id="inventory-table">
            <thead>
              <tr>
                <th scope="col">SKU</th>
                <th scope="col">Site</th>
                <th scope="col" class="num">
                  Positions
                </th>
                <th scope="col" class="num">
                  On hand
                </th>
                <th scope="col" class="num">
                  Reserved
                </th>
                <th scope="col" class="num">
                  Safety
                </th>
                <th scope="col" class="num">
                  ATP
                </th>
              </tr>
            </thead>
            <tbody>
              {(rows ?? []).map((r) => (
                <tr key={`${r.sku}/${r.site}`} class={r.atp <= 0 ? 'short' : ''}>
                  <td>
                    <button type="button" class="link" onClick={() => setPicked(r.sku)} title="Check the promise for this SKU">
                      {r.sku}
                    </button>
                  </td>
                  <td>{r.site}</td>
                  <td class="num">{r.positions}</td>
                  <td class="num">{num(r.onHand)}</td>
                  <td class="num">{num(r.reserved)}</td>
                  <td class="num">{num(r.safetyStock)}</td>
                  <td class={`num ${r.atp <= 0 ? 'tone-bad' : ''}`}>{num(r.atp)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <aside class="side">
        <AvailabilityCheck sku={picked} />
      </aside>
    </div>
  );
}
