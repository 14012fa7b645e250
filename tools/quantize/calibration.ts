/**
 * Activation ranges for int8 quantisation: the file format (models/int8-calibration.json, committed,
 * so `npm run models:build` quantises offline) and the measurement itself (each value's minimum and
 * maximum over real network inputs, read by exposing the values as extra graph outputs).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import onnxPkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { findPackageRoot } from '../../src/core/config.js';
import { rangesNeeded, type KeepFloat, type TensorRanges, type ValueRange } from './qdq.js';

const { onnx } = onnxPkg;

export const CALIBRATION_FILE = 'int8-calibration.json';

export function defaultCalibrationPath(): string {
  return path.join(findPackageRoot(), 'models', CALIBRATION_FILE);
}

/**
 * How one network is quantised, chosen on train photos (docs/BENCHMARKS.md §26): which share of
 * the inputs' extremes sets each range (combineRanges), and which layers stay float.
 */
export interface Int8Recipe {
  readonly share: number;
  /** Depthwise convolutions stay float (their per-tensor uint8 inputs cost the embedding most). */
  readonly keepDepthwise: boolean;
  /** Further layers (a Conv's output name) that stay float. */
  readonly keepFloat: readonly string[];
}

export const INT8_RECIPES: Readonly<Record<string, Int8Recipe>> = {
  blazeface: { share: 1, keepDepthwise: false, keepFloat: [] },
  facemesh: { share: 1, keepDepthwise: false, keepFloat: [] },
  faceres: { share: 1, keepDepthwise: true, keepFloat: [] },
  // '518' the first convolution, '659' the last pointwise one: alone, each moved the embedding most
  // (§26); then the six that, left float one at a time, kept most train crops at cosine ≥ 0.995
  // (variants.js --sensitivity, §34): dev cosine ≥ 0.995 on 99.5% of photos, half the open-set loss (§41).
  'fr-feature': { share: 0.9, keepDepthwise: true, keepFloat: ['518', '659', '530', '638', '557', '524', '647', '533'] },
};

export interface NetworkCalibration {
  /** sha256 of the float model (models/build/<name>.onnx) the ranges were measured on. */
  readonly floatSha256: string;
  /** Network inputs the ranges were measured over. */
  readonly inputs: number;
  /** The recipe's share of the extremes. */
  readonly share: number;
  /** Layers (Conv output names) that stay float: the recipe's, depthwise ones resolved. */
  readonly keepFloat: readonly string[];
  readonly ranges: TensorRanges;
}

export interface CalibrationFile {
  readonly formatVersion: 1;
  /** Where the photos came from and how they were fed (free text for people). */
  readonly photos: string;
  readonly networks: Readonly<Record<string, NetworkCalibration>>;
}

export async function readCalibration(file: string = defaultCalibrationPath()): Promise<CalibrationFile> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as CalibrationFile;
  if (parsed.formatVersion !== 1 || typeof parsed.networks !== 'object') throw new Error(`${file} is not an int8 calibration file (formatVersion 1)`);
  return parsed;
}

/** Each value's minimum and maximum on each input. */
export interface RangeSamples {
  readonly mins: Float32Array;
  readonly maxs: Float32Array;
}

/** Each needed value's extremes on each of `inputs` (one item each, `itemDims` without the batch). */
export async function measureRanges(modelBytes: Uint8Array, itemDims: readonly number[], inputs: readonly Float32Array[], keepFloat?: KeepFloat): Promise<Map<string, RangeSamples>> {
  const model = onnx.ModelProto.decode(modelBytes);
  const names = rangesNeeded(model, keepFloat);
  const graphOutputs = new Set((model.graph!.output ?? []).map((o) => o.name));
  for (const name of names.filter((n) => !graphOutputs.has(n))) {
    model.graph!.output!.push({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } });
  }
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { intraOpNumThreads: 1, graphOptimizationLevel: 'basic' });
  const samples = new Map(names.map((n): [string, RangeSamples] => [n, { mins: new Float32Array(inputs.length), maxs: new Float32Array(inputs.length) }]));
  try {
    for (const [item, input] of inputs.entries()) {
      const results = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, ...itemDims]) }, names);
      for (const name of names) {
        let lo = Infinity;
        let hi = -Infinity;
        for (const v of results[name].data as Float32Array) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        samples.get(name)!.mins[item] = lo;
        samples.get(name)!.maxs[item] = hi;
      }
    }
  } finally {
    await session.release();
  }
  return samples;
}

/**
 * One range per value from its per-input extremes: the `share` quantile of the maxima and the
 * 1 − share quantile of the minima (share 1: the plain minimum and maximum over all inputs). A
 * lower share ignores the rare input whose outlier would otherwise coarsen every other input's steps.
 */
export function combineRanges(samples: ReadonlyMap<string, RangeSamples>, share: number): TensorRanges {
  const at = (values: Float32Array, q: number): number => {
    const sorted = Float32Array.from(values).sort();
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
  };
  return Object.fromEntries([...samples].map(([name, { mins, maxs }]): [string, ValueRange] => [name, [at(mins, 1 - share), at(maxs, share)]]));
}
