/**
 * Battery state of charge over time. Reference defaults (DESIGN.md §5): about 8 h of driving
 * from full, about 2.7 h from empty to full on a charger. Standing still draws a quarter of the
 * driving load (computers, lidar, lift holding).
 */
export interface BatterySpec {
  /** Hours of continuous driving from 100 % to 0 %. */
  runHours: number;
  /** Hours from 0 % to 100 % on a charger. */
  chargeHours: number;
  /** Fraction of the driving drain drawn while standing. */
  idleFactor: number;
}

export const DEFAULT_BATTERY: BatterySpec = { runHours: 8, chargeHours: 2.7, idleFactor: 0.25 };

export type BatteryMode = 'driving' | 'idle' | 'charging';

/** Charge in percent after `seconds` in `mode`, clamped to [0, 100]. */
export function batteryAfter(charge: number, mode: BatteryMode, seconds: number, spec: BatterySpec = DEFAULT_BATTERY): number {
  const perSecond =
    mode === 'charging' ? 100 / (spec.chargeHours * 3600) : -(100 / (spec.runHours * 3600)) * (mode === 'driving' ? 1 : spec.idleFactor);
  return Math.min(100, Math.max(0, charge + perSecond * seconds));
}
