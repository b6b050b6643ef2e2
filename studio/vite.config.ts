// Sluice Studio's build: a single-page app in studio/dist, served by the runtime at `/`.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The runtime reads the manifest to tell the public sign-in assets from the rest of the app.
    manifest: true,
    chunkSizeWarningLimit: 1500,
    sourcemap: false,
  },
  server: { proxy: { '/api': 'http://localhost:9042' } },
});
