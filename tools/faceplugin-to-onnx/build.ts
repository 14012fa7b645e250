/**
 * The faceplugin part of `npm run models:build`: faceplugin-face-recognition-js ships plain ONNX
 * (PyTorch 1.10 export, opset 9); fr_feature.onnx is rewritten for ONNX Runtime on the CPU and saved
 * as <outDir>/fr-feature.onnx, recorded in the shared models/build/manifest.json:
 *  - the bottleneck channels training left dead are removed and the subnormal weights that remain
 *    become 0 (dead-channels.ts): the same embeddings, at twice the speed;
 *  - each PRelu becomes Max(x, slope · x) (the same function for slopes ≤ 1, as all of its are;
 *    Relu(x) − slope · Relu(−x) otherwise): faster than ONNX Runtime's CPU PRelu;
 *  - the batch dimension, fixed to 1 by the export (input and the final Reshape), becomes dynamic,
 *    so the service's micro-batcher can stack crops.
 * Skipped when the source file, this code and the output file are unchanged.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxPkg from 'onnx-proto';
import type { BuildOptions, BuildResult } from '../tfjs-to-onnx/build-models.js';
import { folderCodeHash, sha256 } from '../tfjs-to-onnx/fingerprint.js';
import { isBuilt, readManifest, withEntry, writeFileAtomic, writeManifest, type ManifestEntry } from '../tfjs-to-onnx/manifest.js';
import { flushSubnormals, removeDeadChannels } from './dead-channels.js';
import { floatValues } from '../quantize/graph.js';

const { onnx } = onnxPkg;
type ModelProto = InstanceType<typeof onnx.ModelProto>;

export const PACKAGE = 'faceplugin-face-recognition-js';
export const FR_FEATURE = 'fr-feature';
const SOURCE_FILE = 'model/fr_feature.onnx';
const BATCH = 'batch';
const CONVERTER_VERSION = '4';
const EMBEDDING_SIZE = 512;
/**
 * The bottlenecks keep a multiple of 16 channels (the live ones and, as zeros, enough dead ones):
 * ONNX Runtime's `all` level runs a convolution in its blocked NCHWc layout only when the channel
 * counts fill whole blocks of 16 (AVX-512; 8 on AVX2), 17% faster here (docs/BENCHMARKS.md §34).
 */
const CHANNEL_MULTIPLE = 16;

export function facepluginModelPath(file: string): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve(`${PACKAGE}/package.json`)), file);
}

/**
 * PRelu(x, slope) as plain element-wise ops, node by node, names kept unique by the node's output
 * name: ONNX Runtime's CPU PRelu kernel broadcasts element by element (half of expo-mobilefacenet's
 * time, docs/BENCHMARKS.md §45). With every slope ≤ 1 it is Max(x, slope · x) exactly (slope · x ≤ x
 * for x ≥ 0, ≥ x below), two ops; otherwise Relu(x) − slope · Relu(−x).
 */
function expandPRelu(model: ModelProto): void {
  const graph = model.graph!;
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name, tensor]));
  graph.node = (graph.node ?? []).flatMap((node) => {
    if (node.opType !== 'PRelu') return [node];
    const [x, slope] = node.input ?? [];
    const [y] = node.output ?? [];
    const part = (name: string) => `${y}_prelu_${name}`;
    const slopes = initializers.get(slope);
    if (slopes && floatValues(slopes).every((value) => value <= 1)) {
      return [
        onnx.NodeProto.create({ opType: 'Mul', input: [x, slope], output: [part('scaled')] }),
        onnx.NodeProto.create({ opType: 'Max', input: [x, part('scaled')], output: [y] }),
      ];
    }
    return [
      onnx.NodeProto.create({ opType: 'Relu', input: [x], output: [part('positive')] }),
      onnx.NodeProto.create({ opType: 'Neg', input: [x], output: [part('negated')] }),
      onnx.NodeProto.create({ opType: 'Relu', input: [part('negated')], output: [part('negative')] }),
      onnx.NodeProto.create({ opType: 'Mul', input: [part('negative'), slope], output: [part('scaled')] }),
      onnx.NodeProto.create({ opType: 'Sub', input: [part('positive'), part('scaled')], output: [y] }),
    ];
  });
}

/** The export fixes batch 1 in the graph's input, output and the last Reshape's target shape. */
function dynamicBatch(model: ModelProto): void {
  const graph = model.graph!;
  for (const value of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    const [first] = value.type?.tensorType?.shape?.dim ?? [];
    if (first) {
      first.dimValue = null;
      first.dimParam = BATCH;
    }
  }
  for (const node of (graph.node ?? []).filter((n) => n.opType === 'Reshape')) {
    const target = (graph.initializer ?? []).find((t) => t.name === node.input?.[1]);
    if (!target?.rawData || target.rawData.length !== 16) throw new Error(`${SOURCE_FILE}: Reshape ${node.name} has no [batch, features] target shape`);
    // The export wrote [1, -1]; the batch becomes the inferred dimension, the embedding size explicit.
    target.rawData = new Uint8Array(BigInt64Array.from([-1n, BigInt(EMBEDDING_SIZE)]).buffer);
  }
}

/** fr_feature.onnx rewritten for ONNX Runtime (see the file comment). */
export function convertFrFeature(source: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(source);
  const { removed, channels } = removeDeadChannels(model, CHANNEL_MULTIPLE);
  const flushed = flushSubnormals(model);
  expandPRelu(model);
  dynamicBatch(model);
  model.docString = `${PACKAGE} ${SOURCE_FILE}: ${removed} of ${channels} bottleneck channels dead and removed, ${flushed} subnormal weights 0, PRelu expanded, dynamic batch (face3d tools/faceplugin-to-onnx)`;
  return onnx.ModelProto.encode(model).finish();
}

function manifestEntry(version: string, sourceHash: string, converterHash: string, onnxBytes: Uint8Array): ManifestEntry {
  return {
    name: FR_FEATURE,
    file: `${FR_FEATURE}.onnx`,
    description: `faceplugin fr_feature (ArcFace-style MobileFaceNet, 1.19 M parameters): ${EMBEDDING_SIZE}-D face embedding`,
    opset: 9,
    layout: 'NCHW',
    source: { package: PACKAGE, version, files: [SOURCE_FILE], sha256: sourceHash },
    converter: { version: CONVERTER_VERSION, sha256: converterHash },
    onnxSha256: sha256([onnxBytes]),
    input: { name: 'input', shape: [BATCH, 3, 112, 112], range: [-1, 1], note: 'RGB (pixel − 127) / 128 of the 112x112 five-point aligned crop' },
    outputs: [{ name: 'output', shape: [BATCH, EMBEDDING_SIZE], tfNode: 'output', description: '512-D embedding, not L2-normalised (compare by cosine)' }],
  };
}

export async function buildFacepluginModels(options: Omit<BuildOptions, 'configs'>): Promise<BuildResult[]> {
  const { outDir, force = false, log = () => undefined } = options;
  const started = performance.now();
  await mkdir(outDir, { recursive: true });
  const sourcePath = facepluginModelPath(SOURCE_FILE);
  const source = await readFile(sourcePath);
  const { version } = JSON.parse(await readFile(facepluginModelPath('package.json'), 'utf8')) as { version: string };
  const sourceHash = sha256([source]);
  const converterHash = await folderCodeHash(path.dirname(fileURLToPath(import.meta.url)), CONVERTER_VERSION);
  const file = path.join(outDir, `${FR_FEATURE}.onnx`);
  const shown = path.relative(process.cwd(), file);
  const previous = (await readManifest(outDir)).models.find((entry) => entry.name === FR_FEATURE);
  if (!force && (await isBuilt(previous, sourceHash, converterHash, file))) {
    log(`${FR_FEATURE}: up to date (${shown})`);
    return [{ name: FR_FEATURE, status: 'up to date', file }];
  }
  const converted = convertFrFeature(source);
  await writeFileAtomic(file, converted);
  // Re-read so that entries other build steps wrote meanwhile are kept.
  const { models } = await readManifest(outDir);
  await writeManifest(outDir, { formatVersion: 1, models: withEntry(models, manifestEntry(version, sourceHash, converterHash, converted)) });
  log(`${FR_FEATURE}: converted in ${((performance.now() - started) / 1000).toFixed(2)} s -> ${shown} (${(converted.byteLength / 1e6).toFixed(1)} MB)`);
  return [{ name: FR_FEATURE, status: 'converted', file }];
}
