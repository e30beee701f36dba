import { defineConfig } from 'vite';

// Same-origin isolation headers, as the demo's (optional here: WebGPU does not need them).
const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  server: { host: '127.0.0.1', port: 5174, headers },
  preview: { host: '127.0.0.1', port: 4174, headers },
  build: { target: 'es2022', chunkSizeWarningLimit: 2500 },
});
