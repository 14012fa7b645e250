import { join } from 'node:path';
import { config } from '../config.js';
import { MicroBatcher, runModelOnBatch, type MicroBatcherOptions } from './batcher.js';
import { loadModel, type Feeds, type OnnxModel, type Outputs } from './onnx-runtime.js';

/**
 * One network over square NHWC crops, as the face stages see it: a crop in, named outputs out.
 * Concurrent calls are grouped into batches so a busy server runs each model once per batch.
 */
export interface ImageNetwork {
  readonly name: string;
  readonly inputSize: number;
  infer(crop: Float32Array): Promise<Readonly<Record<string, Float32Array>>>;
  close(): Promise<void>;
}

/** Converted by `npm run models:build` into models/build/<name>.onnx. */
export type NetworkName = 'blazeface' | 'facemesh' | 'faceres' | 'faceres-deep' | 'mobileface' | 'mobilefacenet';

export function convertedModelPath(name: NetworkName): string {
  return join(config().modelsDir, 'build', `${name}.onnx`);
}

/** Our names for the converted models' outputs, so stages do not depend on TF node names. */
const OUTPUT_ALIASES: Readonly<Record<string, string>> = {
  logits_stride16: 'scores16',
  regressors_stride16: 'regressors16',
  logits_stride32: 'scores32',
  regressors_stride32: 'regressors32',
  output_mesh: 'mesh',
  output_faceflag: 'faceFlag',
};

export function wrapNetwork(name: string, model: OnnxModel, inputSize: number, batching?: MicroBatcherOptions): ImageNetwork {
  const inputName = model.inputNames[0];
  const batcher = new MicroBatcher<Feeds, Outputs>((items) => runModelOnBatch(model, items), batching);
  return {
    name,
    inputSize,
    async infer(crop) {
      const expected = inputSize * inputSize * 3;
      if (crop.length !== expected) throw new RangeError(`${name} takes ${expected} values, got ${crop.length}`);
      const outputs = await batcher.submit({ [inputName]: { data: crop, dims: [1, inputSize, inputSize, 3] } });
      return Object.fromEntries(Object.entries(outputs).map(([key, tensor]) => [OUTPUT_ALIASES[key] ?? key, tensor.data]));
    },
    close: () => batcher.close(),
  };
}

export async function openNetwork(name: NetworkName, inputSize: number, batching?: MicroBatcherOptions): Promise<ImageNetwork> {
  return wrapNetwork(name, await loadModel(convertedModelPath(name)), inputSize, batching);
}
