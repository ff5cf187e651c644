/** Emulated devices, site layouts and order generators for live runs, simulations and tests. */
export { SimulatedAmr, type AmrSpec, type SimulatedAmrOptions } from './amr.js';
export { amrFactsheet, AMR_INSTANT_ACTIONS, AMR_NODE_ACTIONS, DEFAULT_AMR_PHYSICS, type AmrPhysics } from './amr-factsheet.js';
export { SimulatedAsrs, ASRS_ACTIONS, type AsrsSpec } from './asrs.js';
export { SimulatedConveyor, CONVEYOR_ACTIONS, type ConveyorSpec } from './conveyor.js';
export { SimulatedArm, ARM_ACTIONS, type ArmSpec } from './arm.js';
export { startSimulatedSite, type SimCredentials, type SimDeviceClass, type SimLogger, type SimulatedDevices, type SimulatedSite, type SimulatedSiteOptions } from './site-sim.js';
export { startOrderFeed, createOrderGenerator, type FeedLogger, type FeedOrderBody, type OrderFeedOptions, type OrderFeedStats } from './order-feed.js';
export { ManualClock, realClock, scaledClock, type SimClock } from './clock.js';
export { createRng, hashSeed, type Rng } from './random.js';
export { batteryAfter, DEFAULT_BATTERY, type BatteryMode, type BatterySpec } from './battery.js';
export * from './kinematics.js';
export { WcsActionRunner, type ActionPlan, type Planner } from './wcs-runner.js';
export { FAULT_KINDS, FAULT_KINDS_BY_CLASS, TYPICAL_FAULTS, faultSchedule, scheduleFaults, type Fault, type FaultConfig, type FaultKind, type FaultRate, type FaultRates, type Faultable } from './faults.js';
export { startSiteFaults, type SiteFaults } from './site-faults.js';
export { UtilizationMeter, utilizationBetween, type HasUtilization, type Utilization, type UtilizationState } from './utilization.js';
export { PortBuffers, DEFAULT_PORT_CAPACITY } from './port-buffers.js';
export { type ArmBehaviour } from './arm.js';
export { generateDemoLayout } from './sites/generate-demo.js';
