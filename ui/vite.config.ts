import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const backend = process.env.VISAGE_BACKEND ?? 'http://localhost:8000';

export default defineConfig({
  base: '/',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    port: 5173,
    proxy: {
      '/admin': { target: backend, changeOrigin: true },
      '/api/v1': { target: backend, changeOrigin: true },
      '/core': { target: backend, changeOrigin: true },
    },
  },
});
