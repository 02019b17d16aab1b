// Builds the operator's console into the jar's static resources (served at /console by the broker). Run by the
// Maven build at generate-resources; see docs/console.md.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/console/',
  logLevel: 'warn',
  build: {
    outDir: process.env.GPUBROKER_CONSOLE_OUT ?? `${here}/../../../target/generated-resources/console/static/console`,
    emptyOutDir: true,
    // The page is served with a strict Content-Security-Policy (script-src 'self'): no inline script, no eval,
    // and nothing fetched from another origin, so everything is bundled.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
