/**
 * The browser viewer (web/, built into dist/web by `npm run build:web`) at `/`: its files as they
 * are, and index.html for any other page a browser asks for, so links into the app still load it.
 * Registered after the API routes, so /graphql, /healthz and the downloads are never shadowed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';
import { findPackageRoot } from '../core/config.js';

/** A missing file (`/favicon.ico`) is a 404, not the app. */
const HAS_EXTENSION = /\.[a-z0-9]+$/i;

export function defaultViewerDir(): string {
  return join(findPackageRoot(), 'dist', 'web');
}

export function viewerRoutes(dir: string = defaultViewerDir()): Router {
  const router = Router();
  const index = join(dir, 'index.html');
  // Hashed asset names change with every build, so they may be cached for good; index.html may not.
  router.use('/assets', express.static(join(dir, 'assets'), { immutable: true, maxAge: '1y', fallthrough: false }));
  router.use(express.static(dir, { index: false }));
  router.get(/.*/, (req, res, next) => {
    if (HAS_EXTENSION.test(req.path) || !req.accepts('html')) return next();
    if (!existsSync(index)) {
      res.status(404).type('text').send('The face3d viewer is not built: run `npm run build:web`.\n');
      return;
    }
    res.set('Cache-Control', 'no-cache').sendFile(index);
  });
  return router;
}
