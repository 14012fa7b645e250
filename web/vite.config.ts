/**
 * Builds the browser viewer into dist/web, which the face3d server serves at `/`. The app is
 * type-checked first by its own tsconfig (DOM types), since the root tsconfig covers Node code only.
 * `vite --config web/vite.config.ts` serves it for development, proxying the API to FACE3D_API
 * (default http://localhost:4000).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const webDir = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.FACE3D_API ?? 'http://localhost:4000';

function typeCheck(): Plugin {
  return {
    name: 'face3d-typecheck',
    apply: 'build',
    buildStart() {
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      execFileSync(process.execPath, [tsc, '-p', `${webDir}tsconfig.json`, '--noEmit'], { stdio: 'inherit' });
    },
  };
}

export default defineConfig({
  root: webDir,
  base: './',
  plugins: [typeCheck()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // three.js alone is ~600 kB minified: one chunk is fine for a viewer loaded once.
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      '/graphql': { target: api, ws: true },
      '/photos': api,
      '/meshes': api,
    },
  },
});
