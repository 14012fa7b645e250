import { join } from 'node:path';
import type { Precision } from '../core/config.js';
import { MicroBatcher, runModelOnBatch, type MicroBatcherOptions } from './batcher.js';
import { loadModel, type Feeds, type OnnxModel, type Outputs } from './onnx-runtime.js';
import type { CpuGraphChanges } from './cpu-graph.js';
import { DEFAULT_INFERENCE_SETTINGS, type InferenceSettings } from './inference-settings.js';
import { publishBatch } from '../core/events.js';
import { NETWORK_INPUTS } from './float-pool.js';

/**
 * One network as the stages see it: one item in (a square NHWC crop, or a feature vector), named
 * outputs out. Concurrent calls are grouped into batches so a busy server runs each model once
 * per batch.
 */
export interface Network {
  readonly name: string;
  /** Dims of one item, without the batch dimension. */
  readonly itemDims: readonly number[];
  /** The network holds no reference to `item` once the promise settles: the caller may write it again (inferWritten). */
  infer(item: Float32Array): Promise<Readonly<Record<string, Float32Array>>>;
  close(): Promise<void>;
}

/** A network over square RGB crops of `itemDims[0]` pixels. */
export type ImageNetwork = Network;

export function imageDims(size: number): readonly number[] {
  return [size, size, 3];
}

/** Converted (or rewritten, for ONNX sources) by `npm run models:build` into models/build/<name>.onnx. */
export type NetworkName = 'blazeface' | 'facemesh' | 'faceres' | 'faceres-deep' | 'mobileface' | 'mobilefacenet' | 'faceapi-recognition' | 'fr-feature' | 'expo-mobilefacenet' | 'fr-feature-expo';

/**
 * The networks FACE3D_PRECISION=int8 runs from their int8 files (tools/quantize: <name>.int8.onnx,
 * written by `npm run models:build`): those int8 makes faster on the CPU within the parity
 * (docs/BENCHMARKS.md §26, §41). Not the detector and FaceMesh (their int8 files are slower), nor
 * fr-feature: its int8 file saves about 9% of its CPU but moves open-set figures by up to 0.5–0.7
 * points over repeated dev splits (§41), so int8 runs it float.
 */
export const INT8_NETWORKS: ReadonlySet<NetworkName> = new Set<NetworkName>(['faceres']);

/** Whether `name` runs from its int8 file under `precision`. */
export function runsInt8(name: NetworkName, precision: Precision): boolean {
  return precision === 'int8' && INT8_NETWORKS.has(name);
}

/**
 * The float networks whose PReLUs run rewritten for the NCHWc layout on the CPU (cpu-graph.ts),
 * measured faster (docs/BENCHMARKS.md §53, §57, §61): fr-feature 25% less CPU per run,
 * expo-mobilefacenet about 30% less and fr-feature-expo, which holds both, about 35% less, FaceMesh
 * 9% less; with the rewrite in two passes (§61) fr-feature-expo and FaceMesh 11–14% less again. Their
 * outputs move by rounding only: landmarks by at most 5e-5 px and identity vectors to a cosine of
 * 1 − 1e-11 with the files' graphs on 120 LFW dev photos.
 */
export const NCHWC_PRELU_NETWORKS: ReadonlySet<NetworkName> = new Set<NetworkName>(['fr-feature', 'fr-feature-expo', 'expo-mobilefacenet', 'facemesh']);

/**
 * The float networks whose channel paddings run as convolutions on the CPU (cpu-graph.ts), so that
 * their residual stages stay in the NCHWc layout (docs/BENCHMARKS.md §61): BlazeFace and FaceMesh,
 * the two with channel paddings; outputs moved by rounding only.
 */
export const NCHWC_CHANNEL_PAD_NETWORKS: ReadonlySet<NetworkName> = new Set<NetworkName>(['blazeface', 'facemesh']);

/**
 * The float networks whose convolutions are widened with zero channels to whole NCHWc blocks on the
 * CPU (cpu-graph.ts; docs/BENCHMARKS.md §61): BlazeFace, whose first stage runs 24 channels; outputs
 * moved by rounding only.
 */
export const NCHWC_WIDEN_NETWORKS: ReadonlySet<NetworkName> = new Set<NetworkName>(['blazeface']);

/** How `name`'s graph is adapted for the CPU: its input's sizes (`itemDims`, without the batch) known, the NCHWc rewrites where measured faster. */
export function cpuGraphChanges(name: NetworkName, itemDims: readonly number[], precision: Precision): CpuGraphChanges {
  const float = !runsInt8(name, precision);
  return {
    itemDims,
    nchwcPRelu: NCHWC_PRELU_NETWORKS.has(name) && float,
    nchwcChannelPad: NCHWC_CHANNEL_PAD_NETWORKS.has(name) && float,
    nchwcWiden: NCHWC_WIDEN_NETWORKS.has(name) && float,
  };
}

export function convertedModelPath(name: NetworkName, settings: Pick<InferenceSettings, 'modelsDir' | 'precision'> = DEFAULT_INFERENCE_SETTINGS): string {
  return join(settings.modelsDir, 'build', runsInt8(name, settings.precision) ? `${name}.int8.onnx` : `${name}.onnx`);
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

export function wrapNetwork(name: string, model: OnnxModel, itemDims: readonly number[], batching: MicroBatcherOptions): Network {
  const inputName = model.inputNames[0];
  const batcher = new MicroBatcher<Feeds, Outputs>((items) => {
    publishBatch(name, items.length);
    return runModelOnBatch(model, items);
  }, batching);
  const expected = itemDims.reduce((a, b) => a * b, 1);
  return {
    name,
    itemDims,
    async infer(item) {
      if (item.length !== expected) throw new RangeError(`${name} takes ${expected} values, got ${item.length}`);
      const outputs = await batcher.submit({ [inputName]: { data: item, dims: [1, ...itemDims] } });
      return Object.fromEntries(Object.entries(outputs).map(([key, tensor]) => [OUTPUT_ALIASES[key] ?? key, tensor.data]));
    },
    close: () => batcher.close(),
  };
}

/** `network` run on an item that `write` fills, in an array lent by NETWORK_INPUTS (float-pool.ts) for the call. */
export function inferWritten(network: Network, write: (item: Float32Array) => void): Promise<Readonly<Record<string, Float32Array>>> {
  return NETWORK_INPUTS.borrow(network.itemDims.reduce((a, b) => a * b, 1), (item) => {
    write(item);
    return network.infer(item);
  });
}

export async function openNetwork(name: NetworkName, inputSize: number, settings: InferenceSettings = DEFAULT_INFERENCE_SETTINGS): Promise<ImageNetwork> {
  const itemDims = imageDims(inputSize);
  return wrapNetwork(name, await loadModel(convertedModelPath(name, settings), settings.runtime, cpuGraphChanges(name, itemDims, settings.precision)), itemDims, settings.batching);
}
