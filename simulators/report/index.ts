export * from './types.js';
export * from './stats.js';
export * from './summarize.js';
export { renderHtmlReport, sweepKnee, KNEE_FRACTION } from './html-report.js';
export { writeReport } from './write-report.js';
