/**
 * The public entry of the core: what simulators, tests and embedding hosts may import (DESIGN §1).
 */
export { createCore, CORE_VERSION, type Core, type CoreOverrides } from './core.js';
export { loadConfig, type Config } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { loadSiteLayout, parseSiteLayout, resolveSitePath } from './adapters/site-loader.js';
export { checkLayoutReferences, type LayoutProblem } from './domain/site-check.js';
export * from './domain/site-layout.js';
export { RouteGraph, type Route } from './domain/route-graph.js';
export type { Clock, Transport, Notifier, LiveEvent } from './ports.js';
export { MemoryBus, BusClient, type BusWill, type MemoryBusOptions, type BusStats } from './adapters/memory/memory-bus.js';
export { MemoryTransport } from './adapters/memory/memory-transport.js';
export type { OrderIntake, IntakeResult } from './app/intake.js';
export type { OrderInput, OrderRecord, LineRecord, TaskRecord } from './domain/records.js';
export { PickwireError, ERROR_CATALOG, type ErrorCode } from './errors.js';
