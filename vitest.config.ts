import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{src,devices,simulators,protocols}/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most integration tests wait on simulated devices in scaled real time rather than burn CPU:
    // two files at once on this 2-core CI halves the wall time (one worker took ~17 minutes).
    maxWorkers: 2,
    reporters: ['default'],
  },
});
