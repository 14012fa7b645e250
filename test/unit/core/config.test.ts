import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, config, findPackageRoot, loadConfig } from '../../../src/core/config.js';

describe('loadConfig', () => {
  it('has documented defaults, with models/ under the package root whatever the cwd', () => {
    const loaded = loadConfig({});

    expect(loaded).toEqual({
      device: 'auto',
      threads: 1,
      precision: 'fp32',
      batchMax: 8,
      batchDelayMs: 5,
      maxImageBytes: 20 * 1024 * 1024,
      maxImagePixels: 40_000_000,
      modelsDir: join(findPackageRoot(), 'models'),
      bundles: ['lfw-facemesh-v2'],
      targetFpir: 0.01,
      databaseUrl: 'file:./data/face3d.db',
      dataDir: undefined,
      busyTimeoutMs: 10_000,
      host: '0.0.0.0',
      port: 4000,
      adminKey: undefined,
      maxUploadFiles: 20,
      maxQueryDepth: 12,
      maxQueryCost: 5000,
      workers: 4,
      meshThreads: 1,
      meshQueue: 16,
      rateLimitPerMinute: 0,
      syncIntervalMs: 1000,
      jobLeaseMs: 60_000,
      publicUrl: undefined,
      corsOrigins: [],
      production: false,
      debug: false,
      logLevel: 'info',
      metricsPort: undefined,
      metricsHost: '127.0.0.1',
      drainTimeoutMs: 30_000,
    });
    expect(existsSync(join(loaded.modelsDir, '..', 'package.json'))).toBe(true);
    expect(Object.isFrozen(loaded)).toBe(true);
  });

  it('reads every variable; blanks mean the default; case and spaces are forgiven for the device', () => {
    const loaded = loadConfig({
      FACE3D_DEVICE: ' CUDA ',
      FACE3D_THREADS: '4',
      FACE3D_PRECISION: ' INT8 ',
      FACE3D_BATCH_MAX: '',
      FACE3D_BATCH_DELAY_MS: '0',
      FACE3D_MAX_IMAGE_BYTES: '1000',
      FACE3D_MAX_IMAGE_PIXELS: '250000',
      FACE3D_MODELS_DIR: 'relative/models',
      FACE3D_BUNDLES: ' lfw-facemesh-v2, models/bfm-cnn3dmm ,',
      FACE3D_TARGET_FPIR: ' 1e-3 ',
      DATABASE_URL: 'file:/srv/face3d/gallery.db',
      FACE3D_DATA_DIR: 'relative/photos',
      FACE3D_BUSY_TIMEOUT_MS: '2500',
      HOST: '127.0.0.1',
      PORT: '0',
      FACE3D_ADMIN_KEY: 'an-admin-key-of-24-chars',
      FACE3D_MAX_UPLOAD_FILES: '5',
      FACE3D_MAX_QUERY_DEPTH: '8',
      FACE3D_MAX_QUERY_COST: '100',
      FACE3D_WORKERS: '2',
      FACE3D_MESH_THREADS: '0',
      FACE3D_MESH_QUEUE: '0',
      FACE3D_RATE_LIMIT: '600',
      FACE3D_SYNC_MS: '250',
      FACE3D_JOB_LEASE_MS: '30000',
      FACE3D_CORS_ORIGINS: 'https://viewer.example.com, http://localhost:5173',
      NODE_ENV: 'production',
      FACE3D_DEBUG: '1',
      LOG_LEVEL: ' Warn ',
      FACE3D_METRICS_PORT: '9464',
      FACE3D_METRICS_HOST: '10.0.0.5',
      FACE3D_DRAIN_MS: '5000',
    });

    expect(loaded).toEqual({
      device: 'cuda',
      threads: 4,
      precision: 'int8',
      batchMax: 8,
      batchDelayMs: 0,
      maxImageBytes: 1000,
      maxImagePixels: 250_000,
      modelsDir: resolve('relative/models'),
      bundles: ['lfw-facemesh-v2', 'models/bfm-cnn3dmm'],
      targetFpir: 0.001,
      databaseUrl: 'file:/srv/face3d/gallery.db',
      dataDir: resolve('relative/photos'),
      busyTimeoutMs: 2500,
      host: '127.0.0.1',
      port: 0,
      adminKey: 'an-admin-key-of-24-chars',
      maxUploadFiles: 5,
      maxQueryDepth: 8,
      maxQueryCost: 100,
      workers: 2,
      meshThreads: 0,
      meshQueue: 0,
      rateLimitPerMinute: 600,
      syncIntervalMs: 250,
      jobLeaseMs: 30_000,
      publicUrl: undefined,
      corsOrigins: ['https://viewer.example.com', 'http://localhost:5173'],
      production: true,
      debug: true,
      logLevel: 'warn',
      metricsPort: 9464,
      metricsHost: '10.0.0.5',
      drainTimeoutMs: 5000,
    });
  });

  it('keeps the metrics port, which asks for no key, on this host unless FACE3D_METRICS_HOST says otherwise, whatever HOST is', () => {
    expect(loadConfig({ HOST: '0.0.0.0', FACE3D_METRICS_PORT: '9464' }).metricsHost).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '10.0.0.5' }).metricsHost).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0', FACE3D_METRICS_HOST: '0.0.0.0' }).metricsHost).toBe('0.0.0.0');
  });

  it('names every bad variable in one error', () => {
    const bad = {
      FACE3D_DEVICE: 'gpu',
      FACE3D_THREADS: '-1',
      FACE3D_PRECISION: 'fp16',
      FACE3D_BATCH_MAX: '0',
      FACE3D_BATCH_DELAY_MS: '1.5',
      FACE3D_MAX_IMAGE_BYTES: '20MB',
      FACE3D_MAX_IMAGE_PIXELS: '99999999999999999999',
      FACE3D_BUNDLES: 'a,b,a',
      FACE3D_TARGET_FPIR: '1%',
      DATABASE_URL: 'mysql://db/face3d',
      PORT: '70000',
      FACE3D_ADMIN_KEY: 'short-secret',
      FACE3D_RATE_LIMIT: '-5',
      FACE3D_MESH_QUEUE: '1001',
      FACE3D_CORS_ORIGINS: 'https://ok.example.com,*,https://x.example.com/path',
      FACE3D_DEBUG: 'yes',
      LOG_LEVEL: 'loud',
      FACE3D_METRICS_PORT: '-1',
      FACE3D_DRAIN_MS: 'soon',
    };

    let thrown: unknown;
    try {
      loadConfig(bad);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([
      'FACE3D_DEVICE must be one of auto, cpu, cuda, got "gpu"',
      'FACE3D_THREADS must be an integer from 0 to 1024, got "-1"',
      'FACE3D_PRECISION must be one of fp32, int8, got "fp16"',
      'FACE3D_BATCH_MAX must be an integer from 1 to 1024, got "0"',
      'FACE3D_BATCH_DELAY_MS must be an integer from 0 to 60000, got "1.5"',
      'FACE3D_MAX_IMAGE_BYTES must be an integer of at least 1, got "20MB"',
      'FACE3D_MAX_IMAGE_PIXELS must be an integer of at least 1, got "99999999999999999999"',
      'FACE3D_BUNDLES lists a bundle twice: "a,b,a"',
      'FACE3D_TARGET_FPIR must be a number strictly between 0 and 1, got "1%"',
      'DATABASE_URL must be file:<path> (SQLite), postgres://… (PostgreSQL) or pglite:<dir>, got "mysql://db/face3d"',
      'PORT must be an integer from 0 to 65535, got "70000"',
      'FACE3D_ADMIN_KEY must be at least 24 characters long (try `openssl rand -hex 32`)',
      'FACE3D_MESH_QUEUE must be an integer from 0 to 1000, got "1001"',
      'FACE3D_RATE_LIMIT must be an integer of at least 0, got "-5"',
      'FACE3D_CORS_ORIGINS must list origins like https://app.example.com (no path, no wildcard), got "*,https://x.example.com/path"',
      'FACE3D_DEBUG must be one of 0, 1, got "yes"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'FACE3D_METRICS_PORT must be an integer from 0 to 65535, got "-1"',
      'FACE3D_DRAIN_MS must be an integer from 0 to 3600000, got "soon"',
    ]);
    expect((thrown as ConfigError).message).not.toContain('short-secret');
  });

  it('config() validates process.env once and returns the same object', () => {
    expect(config()).toBe(config());
  });
});

describe('findPackageRoot', () => {
  it('walks up to the nearest package.json', () => {
    const root = mkdtempSync(join(tmpdir(), 'face3d-root-'));
    try {
      writeFileSync(join(root, 'package.json'), '{}');
      mkdirSync(join(root, 'dist', 'src'), { recursive: true });

      expect(findPackageRoot(join(root, 'dist', 'src'))).toBe(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
