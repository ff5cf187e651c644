/**
 * Great-circle distance and daily cut-off arithmetic for network sourcing. Pure: instants are ms
 * since the epoch (UTC), local clocks are UTC plus a fixed offset in minutes. A fixed offset
 * ignores a daylight-saving change between now and the departure; callers pass the offset in
 * force at the time they decide, which is at most one hour off for a departure days away.
 */

export interface GeoPoint {
  lat: number;
  lon: number;
}

export const EARTH_RADIUS_KM = 6371;
export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 60 * MS_PER_MINUTE;
export const MS_PER_DAY = 24 * MS_PER_HOUR;

const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Great-circle distance (haversine), km. */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  // Rounding can push h a hair over 1 for antipodal points, and asin(>1) is NaN.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Minutes after midnight of a 24-hour "HH:MM" clock time. */
export function parseClock(hhmm: string): number {
  const match = CLOCK.exec(hhmm);
  if (!match) throw new RangeError(`"${hhmm}" is not a 24-hour HH:MM time`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/**
 * The first instant at or after `at` whose local time of day is `minuteOfDay`. "At" counts: a
 * parcel ready exactly at the cut-off still makes that day's departure.
 */
export function nextDailyTime(at: number, minuteOfDay: number, utcOffsetMinutes: number): number {
  const offsetMs = utcOffsetMinutes * MS_PER_MINUTE;
  const local = at + offsetMs;
  const localMidnight = Math.floor(local / MS_PER_DAY) * MS_PER_DAY;
  const today = localMidnight + minuteOfDay * MS_PER_MINUTE;
  const departure = today >= local ? today : today + MS_PER_DAY;
  return departure - offsetMs;
}
