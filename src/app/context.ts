import type { Logger } from 'pino';
import type { Clock, Notifier, Store } from '../ports.js';
import type { SiteLayout, StorageLocation } from '../domain/site-layout.js';
import type { RouteGraph } from '../domain/route-graph.js';
import type { Metrics } from '../metrics.js';
import type { TelemetryRecorder } from './telemetry-recorder.js';

/** What every use case needs: the store, the clock, the site, and where to report. */
export interface AppContext {
  store: Store;
  clock: Clock;
  layout: SiteLayout;
  locations: ReadonlyMap<string, StorageLocation>;
  graph: RouteGraph;
  notifier: Notifier;
  logger: Logger;
  metrics: Metrics;
  siteId: string;
  /** Device metrics and KPI counters for InfluxDB or the in-memory ring. */
  telemetry: TelemetryRecorder;
  /** How often a line may fail in execution before it becomes UNROUTABLE. */
  maxLineAttempts: number;
}
