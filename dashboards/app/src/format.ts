/** Small display helpers shared by the views. */

export function time(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '–' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function dateTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? time(iso) : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** "3 min ago", "in 2 h". */
export function relative(iso: string | number | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined || iso === '') return '';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const s = Math.round((t - now) / 1000);
  const a = Math.abs(s);
  const span = a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 86_400 ? `${(a / 3600).toFixed(1)} h` : `${Math.round(a / 86_400)} d`;
  return s < 0 ? `${span} ago` : `in ${span}`;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`;
}

export function num(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Math.round(v).toLocaleString();
}

export type Tone = 'good' | 'busy' | 'warn' | 'bad' | 'muted';

/** One colour family per kind of state, the same everywhere in the UI and on the map. */
export function tone(state: string | null | undefined): Tone {
  const s = String(state ?? '').toUpperCase();
  if (/ERROR|FAIL|OFFLINE|REJECT|CANCEL|SHORT|UNROUTABLE|BACKORDER|OUT-OF-SERVICE|STALE|EXHAUST|JAM|UNREACHABLE|LATE/.test(s)) return 'bad';
  if (/PAUSE|HOLD|CHARG|WAIT|RISK|UNKNOWN/.test(s)) return 'warn';
  if (/IDLE|SHIPPED|DELIVERED|CLOSED|PACKED|PICKED|FINISHED|RESOLVED|RELEASED_HOLD|HANDLED/.test(s)) return 'good';
  if (s === '') return 'muted';
  return 'busy';
}

export function battery(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : `${Math.round(v)} %`;
}
