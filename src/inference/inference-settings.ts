/**
 * What the inference modules are configured with, read from the service's (or a command's) Config
 * once and passed down to the networks, sessions and decoder, so no inference module reads the
 * process environment itself.
 */
import { DEFAULT_CONFIG, type Config, type Precision } from '../core/config.js';
import type { MicroBatcherOptions } from './batcher.js';
import type { DecodeLimits } from './decode.js';
import type { RuntimeOptions } from './onnx-runtime.js';

export interface InferenceSettings {
  /** FACE3D_DEVICE and FACE3D_THREADS: where and with how many threads the ONNX sessions run. */
  readonly runtime: RuntimeOptions;
  /** FACE3D_BATCH_MAX and FACE3D_BATCH_DELAY_MS: how each network groups concurrent calls. */
  readonly batching: MicroBatcherOptions;
  /** FACE3D_PRECISION: whether the networks in INT8_NETWORKS run from their int8 files. */
  readonly precision: Precision;
  /** FACE3D_MODELS_DIR: the converted networks (`build/`) and the bundles. */
  readonly modelsDir: string;
  /** FACE3D_MAX_IMAGE_BYTES and FACE3D_MAX_IMAGE_PIXELS: what a photo may be before it is decoded. */
  readonly decodeLimits: DecodeLimits;
}

export function inferenceSettings(config: Config): InferenceSettings {
  return {
    runtime: { device: config.device, threads: config.threads },
    batching: { maxBatch: config.batchMax, maxDelayMs: config.batchDelayMs },
    precision: config.precision,
    modelsDir: config.modelsDir,
    decodeLimits: { maxBytes: config.maxImageBytes, maxPixels: config.maxImagePixels },
  };
}

/** The defaults, with nothing read from the environment: for callers that pass no settings (tests). */
export const DEFAULT_INFERENCE_SETTINGS: InferenceSettings = inferenceSettings(DEFAULT_CONFIG);
