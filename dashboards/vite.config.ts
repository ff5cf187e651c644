/**
 * Vite build of the operator dashboard: `dashboards/app/` (Preact + signals, canvas map, uPlot)
 * into `dashboards/dist/`, which the core serves at `/`. Run through dashboards/build.ts.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('./app'),
  base: '/',
  // The build never reaches the network: no CDN, no font service, everything from node_modules.
  publicDir: false,
  logLevel: 'warn',
  clearScreen: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // Small enough as one chunk; a warning about 500 kB would only be noise.
    chunkSizeWarningLimit: 1000,
  },
  server: {
    // `npx vite dashboards` against a running core: the API and the stream are proxied.
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', ws: true },
    },
  },
});
