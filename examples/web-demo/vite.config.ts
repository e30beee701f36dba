import { defineConfig } from 'vite';

/**
 * Cross-origin isolation (COOP + COEP): `crossOriginIsolated` becomes true, so SharedArrayBuffer
 * exists and tfjs's wasm backend can use threads. Everything the page loads is same-origin.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export default defineConfig({
  // Relative asset URLs: the built folder works from any path of any static host.
  base: './',
  server: { host: '127.0.0.1', port: 5173, headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', port: 4173, headers: ISOLATION_HEADERS },
  build: {
    target: 'es2022',
    // tfjs and the model code make one large chunk; the page is an app, not a landing page.
    chunkSizeWarningLimit: 3000,
    // Never inline the wasm binaries or the weights as data URLs: serve them as files.
    assetsInlineLimit: 0,
    // No identifier mangling: tfjs's threaded wasm rebuilds its pthread worker from the
    // factory's source text (`toString()`), which breaks when names are minified (the worker
    // fails with 'e is not defined'). gzip on the wire recovers most of the size.
    minify: false,
  },
  worker: { format: 'es' },
});
