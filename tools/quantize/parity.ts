/**
 * How far the int8 networks move what the pipeline reads from a photo, network by network on the
 * same inputs: the detector's box (IoU of the largest face), the landmarks (photo pixels, both
 * FaceMesh passes from the float detector's box), and each identity network's embedding of the same
 * crop (cosine). Used by the parity test (generated faces) and tools/quantize/parity-dev.ts (LFW dev).
 */
import { join } from 'node:path';
import { config } from '../../src/core/config.js';
import { cosineSimilarity } from '../../src/core/vector.js';
import type { RgbImage } from '../../src/core/image.js';
import { intersectionOverUnion } from '../../src/inference/detect-decode.js';
import { DETECTOR_INPUT_SIZE, detectFaces, largestDetection } from '../../src/inference/detector.js';
import { FEATURE_NETWORKS, featureInput, featureRegion, featureInputDims, type FeatureNetworkSpec } from '../../src/inference/feature-networks.js';
import { detectLandmarks, LANDMARK_INPUT_SIZE, regionFromDetection } from '../../src/inference/landmarks.js';
import { convertedModelPath, imageDims, wrapNetwork, type Network, type NetworkName } from '../../src/inference/networks.js';
import { loadModel } from '../../src/inference/onnx-runtime.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { readCalibration } from './calibration.js';

/** The bars: a network is fit to run int8 when every photo meets them. */
export const PARITY_BARS = { boxIou: 0.95, landmarkPx: 0.5, cosine: 0.995 } as const;

/** One network in both precisions (the int8 file whether or not the service runs it int8). */
export interface NetworkPair {
  readonly float: Network;
  readonly int8: Network;
}

function int8ModelPath(name: NetworkName): string {
  return join(config().modelsDir, 'build', `${name}.int8.onnx`);
}

/** `name`'s float file beside an int8 file: by default models:build's, or a recipe under test. */
export async function openPair(name: NetworkName, itemDims: readonly number[], graphOptimization?: 'extended' | 'all', int8File: string = int8ModelPath(name)): Promise<NetworkPair> {
  const settings = inferenceSettings(config());
  const options = { ...settings.runtime, ...(graphOptimization ? { graphOptimization } : {}) };
  const unbatched = { maxBatch: 1, maxDelayMs: 0 };
  const [float, int8] = await Promise.all([loadModel(convertedModelPath(name, { ...settings, precision: 'fp32' }), options), loadModel(int8File, options)]);
  return { float: wrapNetwork(name, float, itemDims, unbatched), int8: wrapNetwork(`${name}.int8`, int8, itemDims, unbatched) };
}

/**
 * One spec per identity network that has an int8 file (a calibrated network), served int8 or not:
 * fr-feature-flip runs fr-feature's file.
 */
export async function int8IdentitySpecs(): Promise<FeatureNetworkSpec[]> {
  const { networks } = await readCalibration();
  return Object.values(FEATURE_NETWORKS).filter((spec, i, all) => Object.hasOwn(networks, spec.model) && all.findIndex((other) => other.model === spec.model) === i);
}

export interface ParityNetworks {
  readonly detector: NetworkPair;
  readonly landmarks: NetworkPair;
  readonly identities: ReadonlyArray<{ readonly spec: FeatureNetworkSpec; readonly pair: NetworkPair }>;
}

export async function openParityNetworks(specs: readonly FeatureNetworkSpec[]): Promise<ParityNetworks> {
  const [detector, landmarks, ...identities] = await Promise.all([
    openPair('blazeface', imageDims(DETECTOR_INPUT_SIZE)),
    openPair('facemesh', imageDims(LANDMARK_INPUT_SIZE)),
    ...specs.map((spec) => openPair(spec.model, featureInputDims(spec), spec.graphOptimization)),
  ]);
  return { detector, landmarks, identities: identities.map((pair, i) => ({ spec: specs[i], pair })) };
}

export async function closeParityNetworks(networks: ParityNetworks): Promise<void> {
  const pairs = [networks.detector, networks.landmarks, ...networks.identities.map((i) => i.pair)];
  await Promise.all(pairs.flatMap((pair) => [pair.float.close(), pair.int8.close()]));
}

export interface PhotoParity {
  /** IoU of the largest face's box; 0 when one precision finds no face. */
  readonly boxIou: number;
  /** Mean and largest distance of the 468 landmarks, photo pixels. */
  readonly landmarkMeanPx: number;
  readonly landmarkMaxPx: number;
  /** Cosine of each identity network's int8 embedding to its float one, by network name. */
  readonly cosine: Readonly<Record<string, number>>;
}

function landmarkDistances(a: Float32Array, b: Float32Array): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  const count = a.length / 3;
  for (let i = 0; i < count; i++) {
    const d = Math.hypot(a[i * 3] - b[i * 3], a[i * 3 + 1] - b[i * 3 + 1]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / count, max };
}

/** Parity on one photo, or undefined when the float detector finds no face. */
export async function photoParity(networks: ParityNetworks, image: RgbImage): Promise<PhotoParity | undefined> {
  const floatFace = largestDetection(await detectFaces(networks.detector.float, image));
  if (!floatFace) return undefined;
  const int8Face = largestDetection(await detectFaces(networks.detector.int8, image));
  const start = regionFromDetection(floatFace);
  const [floatMarks, int8Marks] = await Promise.all([detectLandmarks(networks.landmarks.float, image, start), detectLandmarks(networks.landmarks.int8, image, start)]);
  const distances = landmarkDistances(floatMarks.points, int8Marks.points);
  const cosine: Record<string, number> = {};
  for (const { spec, pair } of networks.identities) {
    const input = featureInput(spec, image, featureRegion(spec, floatMarks.points));
    const [a, b] = await Promise.all([pair.float.infer(input), pair.int8.infer(input)]);
    cosine[spec.name] = cosineSimilarity(a[spec.output], b[spec.output]);
  }
  return { boxIou: int8Face ? intersectionOverUnion(floatFace.box, int8Face.box) : 0, landmarkMeanPx: distances.mean, landmarkMaxPx: distances.max, cosine };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

export interface Summary {
  readonly min: number;
  readonly p05: number;
  readonly median: number;
  readonly p95: number;
  readonly max: number;
  readonly mean: number;
}

export function summarise(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0],
    p05: quantile(sorted, 0.05),
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    max: sorted[sorted.length - 1],
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}
