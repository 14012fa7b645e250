import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { DEFAULT_CONFIG, loadConfig } from '../../../src/core/config.js';
import { DEFAULT_INFERENCE_SETTINGS, inferenceSettings } from '../../../src/inference/inference-settings.js';
import { convertedModelPath } from '../../../src/inference/networks.js';

describe('inferenceSettings', () => {
  it('carries every inference variable of the environment, through the Config', () => {
    const settings = inferenceSettings(loadConfig({
      FACE3D_DEVICE: 'cpu',
      FACE3D_THREADS: '3',
      FACE3D_BATCH_MAX: '16',
      FACE3D_BATCH_DELAY_MS: '9',
      FACE3D_PRECISION: 'int8',
      FACE3D_MODELS_DIR: '/srv/face3d-models',
      FACE3D_MAX_IMAGE_BYTES: '1000',
      FACE3D_MAX_IMAGE_PIXELS: '2000',
    }));
    expect(settings).toEqual({
      runtime: { device: 'cpu', threads: 3 },
      batching: { maxBatch: 16, maxDelayMs: 9 },
      precision: 'int8',
      modelsDir: '/srv/face3d-models',
      decodeLimits: { maxBytes: 1000, maxPixels: 2000 },
    });
    expect(convertedModelPath('faceres', settings)).toBe(join('/srv/face3d-models', 'build', 'faceres.int8.onnx'));
  });

  it('defaults to the Config of an empty environment', () => {
    expect(DEFAULT_INFERENCE_SETTINGS).toEqual(inferenceSettings(DEFAULT_CONFIG));
    expect(DEFAULT_INFERENCE_SETTINGS).toMatchObject({ runtime: { device: 'auto', threads: 1 }, batching: { maxBatch: 8, maxDelayMs: 5 }, precision: 'fp32' });
  });
});
