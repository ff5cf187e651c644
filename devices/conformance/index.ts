/** Device-protocol conformance: the rules every device (simulated or real) must pass on the wire. */
export { ConformanceFailure, runSuite, type CheckResult, type ConformanceCheck, type ConformanceSuite } from './checks.js';
export { vdaConformanceSuite, type VdaDeviceTarget } from './vda.js';
export { wcsConformanceSuite, type WcsDeviceTarget, type WcsTestAction } from './wcs.js';
