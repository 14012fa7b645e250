import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, config, findPackageRoot, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('has documented defaults, with models/ under the package root whatever the cwd', () => {
    const loaded = loadConfig({});

    expect(loaded).toEqual({
      device: 'auto',
      threads: 0,
      batchMax: 8,
      batchDelayMs: 5,
      maxImageBytes: 20 * 1024 * 1024,
      maxImagePixels: 40_000_000,
      modelsDir: join(findPackageRoot(), 'models'),
    });
    expect(existsSync(join(loaded.modelsDir, '..', 'package.json'))).toBe(true);
    expect(Object.isFrozen(loaded)).toBe(true);
  });

  it('reads every variable; blanks mean the default; case and spaces are forgiven for the device', () => {
    const loaded = loadConfig({
      FACE3D_DEVICE: ' CUDA ',
      FACE3D_THREADS: '4',
      FACE3D_BATCH_MAX: '',
      FACE3D_BATCH_DELAY_MS: '0',
      FACE3D_MAX_IMAGE_BYTES: '1000',
      FACE3D_MAX_IMAGE_PIXELS: '250000',
      FACE3D_MODELS_DIR: 'relative/models',
    });

    expect(loaded).toEqual({
      device: 'cuda',
      threads: 4,
      batchMax: 8,
      batchDelayMs: 0,
      maxImageBytes: 1000,
      maxImagePixels: 250_000,
      modelsDir: resolve('relative/models'),
    });
  });

  it('names every bad variable in one error', () => {
    const bad = {
      FACE3D_DEVICE: 'gpu',
      FACE3D_THREADS: '-1',
      FACE3D_BATCH_MAX: '0',
      FACE3D_BATCH_DELAY_MS: '1.5',
      FACE3D_MAX_IMAGE_BYTES: '20MB',
      FACE3D_MAX_IMAGE_PIXELS: '99999999999999999999',
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
      'FACE3D_BATCH_MAX must be an integer from 1 to 1024, got "0"',
      'FACE3D_BATCH_DELAY_MS must be an integer from 0 to 60000, got "1.5"',
      'FACE3D_MAX_IMAGE_BYTES must be an integer of at least 1, got "20MB"',
      'FACE3D_MAX_IMAGE_PIXELS must be an integer of at least 1, got "99999999999999999999"',
    ]);
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
