export * from './arrivals.js';
export * from './counts.js';
export * from './order-mix.js';
export * from './order-source.js';
