import { defineConfig } from 'vite';

// `bursar serve` serves GET / (index.html) and GET /assets/<file>, one level deep only: every
// built file must land directly in dist/assets/ and be referenced from the root.
const server = process.env.BURSAR_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  publicDir: false,
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  // `npm run dev`: the API and the live stream come from a running `bursar serve`.
  server: {
    proxy: {
      '/v1': { target: server, ws: true, changeOrigin: true },
      '/healthz': { target: server, changeOrigin: true },
    },
  },
});
