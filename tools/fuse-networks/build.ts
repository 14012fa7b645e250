/**
 * The fused identity networks of `npm run models:build`: a row of the network table with `fusion`
 * (src/inference/feature-networks.ts) is one ONNX graph holding its parts' built graphs side by side
 * on the same crop: each part's input derived from the row's normalisation by one affine step where
 * the part's differs, its embedding L2-normalised and scaled by √weight, the parts concatenated, so
 * that the cosine of two fused vectors is the weighted sum of the parts' cosines (docs/BENCHMARKS.md
 * §44). One session, one output: the pipeline, extraction and bundles treat it as any network.
 * Runs after the parts are built; skipped when the parts' files, the row and this code are unchanged.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxPkg from 'onnx-proto';
import { FEATURE_NETWORKS, featureNetworkSpec, type FeatureNetworkSpec } from '../../src/inference/feature-networks.js';
import { BATCH, OPSET, OnnxGraphBuilder, attr, floatTensor, serializeModel } from '../../src/onnx/onnx-builder.js';
import type { BuildOptions, BuildResult } from '../tfjs-to-onnx/build-models.js';
import { folderCodeHash, sha256 } from '../tfjs-to-onnx/fingerprint.js';
import { isBuilt, readManifest, withEntry, writeFileAtomic, writeManifest, type ManifestEntry } from '../tfjs-to-onnx/manifest.js';

const { onnx } = onnxPkg;
type ModelProto = InstanceType<typeof onnx.ModelProto>;

const CONVERTER_VERSION = '1';
const INPUT = 'input';
const OUTPUT = 'embedding';

/** One part as the fused graph needs it: its table row, its built graph and its weight. */
export interface FusedPart {
  readonly spec: FeatureNetworkSpec;
  readonly model: Uint8Array;
  readonly weight: number;
}

/** Every name of a part's graph gets the part's prefix, but its input, which becomes `input`. */
function embedPart(model: ModelProto, prefix: string, input: string): { nodes: onnxPkg.onnx.INodeProto[]; initializers: onnxPkg.onnx.ITensorProto[] } {
  const graph = model.graph!;
  const [graphInput] = graph.input ?? [];
  const rename = (name: string): string => (name === '' ? '' : name === graphInput?.name ? input : `${prefix}/${name}`);
  const nodes = (graph.node ?? []).map((node) => ({ ...node, name: `${prefix}/${node.name || node.output?.[0]}`, input: (node.input ?? []).map(rename), output: (node.output ?? []).map(rename) }));
  const initializers = (graph.initializer ?? []).map((tensor) => ({ ...tensor, name: rename(tensor.name ?? '') }));
  return { nodes, initializers };
}

/** The fused graph of `row` (a table row with `fusion`) from its parts' built graphs. */
export function fuseNetworks(row: FeatureNetworkSpec, parts: readonly FusedPart[]): Uint8Array {
  const builder = new OnnxGraphBuilder();
  builder.reserveNames([OUTPUT]);
  builder.addInput(INPUT, 'float32', [BATCH, 3, row.inputSize, row.inputSize]);
  const prefixes = parts.map(({ spec }, i) => `part${i}_${spec.name}`);
  // Each part's input: the row feeds (pixel − mean)·scale, the part wants (pixel − mean')·scale' = x·scale'/scale + (mean − mean')·scale'.
  const inputs = parts.map(({ spec }, i) => {
    const sameInput = spec.layout === row.layout && spec.channels === row.channels && spec.inputSize === row.inputSize && spec.crop.kind === row.crop.kind;
    if (!sameInput || spec.crop.kind !== 'five-point') throw new Error(`${spec.name} cannot share ${row.name}'s five-point ${row.inputSize}² ${row.channels} ${row.layout} input`);
    let input = INPUT;
    const gain = spec.scale / row.scale;
    const shift = spec.mean.map((mean, c) => (row.mean[c] - mean) * spec.scale);
    if (gain !== 1) input = builder.addNode('Mul', [input, builder.addInitializer(`${prefixes[i]}/gain`, floatTensor([], [gain]))], `${prefixes[i]}/scaled_input`);
    if (shift.some((s) => s !== 0)) input = builder.addNode('Add', [input, builder.addInitializer(`${prefixes[i]}/shift`, floatTensor([3, 1, 1], shift))], `${prefixes[i]}/shifted_input`);
    return input;
  });
  // ONNX wants producers before consumers: the input steps, then the parts' graphs, then the steps reading their outputs.
  const inputSteps = builder.toGraph(row.name).node?.length ?? 0;
  const embedded = parts.map(({ spec, model }, i) => {
    const decoded = onnx.ModelProto.decode(model);
    const [output] = decoded.graph?.output ?? [];
    if (output?.name !== spec.output) throw new Error(`${spec.name}: the built graph's output is ${output?.name}, the table's ${spec.output}`);
    return embedPart(decoded, prefixes[i], inputs[i]);
  });
  const scaled = parts.map(({ spec, weight }, i) => {
    const unit = builder.addNode('LpNormalization', [`${prefixes[i]}/${spec.output}`], `${prefixes[i]}/unit`, { axis: attr.int(1), p: attr.int(2) });
    return builder.addNode('Mul', [unit, builder.addInitializer(`${prefixes[i]}/sqrt_weight`, floatTensor([], [Math.sqrt(weight)]))], `${prefixes[i]}/weighted`);
  });
  const glue = builder.toGraph(row.name);
  const concat = { opType: 'Concat', name: OUTPUT, input: scaled, output: [OUTPUT], attribute: [{ ...attr.int(1), name: 'axis' }] };
  const graph = {
    ...glue,
    node: [...(glue.node ?? []).slice(0, inputSteps), ...embedded.flatMap((part) => part.nodes), ...(glue.node ?? []).slice(inputSteps), concat],
    initializer: [...(glue.initializer ?? []), ...embedded.flatMap((part) => part.initializers)],
    output: [{ name: OUTPUT, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: BATCH }, { dimValue: row.dim }] } } } }],
  };
  return serializeModel(graph, {
    opset: OPSET,
    producerName: 'face3d tools/fuse-networks',
    producerVersion: CONVERTER_VERSION,
    docString: `${row.name}: ${parts.map((p) => `√${p.weight}·unit(${p.spec.name})`).join(' ‖ ')}`,
  });
}

function manifestEntry(row: FeatureNetworkSpec, sourceHash: string, converterHash: string, onnxBytes: Uint8Array): ManifestEntry {
  const parts = row.fusion!.map((part) => `${part.weight} ${part.network}`).join(' + ');
  return {
    name: row.model,
    file: `${row.model}.onnx`,
    description: `fused identity network ${parts}: unit embeddings × √weight, concatenated (${row.dim}-D)`,
    opset: OPSET,
    layout: 'NCHW',
    source: { package: 'face3d', version: 'models/build', files: row.fusion!.map((part) => `${featureNetworkSpec(part.network).model}.onnx`), sha256: sourceHash },
    converter: { version: CONVERTER_VERSION, sha256: converterHash },
    onnxSha256: sha256([onnxBytes]),
    input: { name: INPUT, shape: [BATCH, 3, row.inputSize, row.inputSize], range: [-1, 1], note: `the five-point ${row.inputSize}² crop as ${row.name}'s table row normalises it; each part re-normalised inside` },
    outputs: [{ name: OUTPUT, shape: [BATCH, row.dim], tfNode: OUTPUT, description: `${row.dim}-D: each part's unit embedding × √weight (unit length; cosine = weighted sum of the parts' cosines)` }],
  };
}

export async function buildFusedNetworks(options: Omit<BuildOptions, 'configs'>): Promise<BuildResult[]> {
  const { outDir, force = false, log = () => undefined } = options;
  await mkdir(outDir, { recursive: true });
  const converterHash = await folderCodeHash(path.dirname(fileURLToPath(import.meta.url)), CONVERTER_VERSION);
  const results: BuildResult[] = [];
  // One row per file: a row that only changes how the file is run (fr-feature-expo-flip) shares it,
  // and building it again under that row's hash rebuilt the file twice on every install.
  const fusedRows = Object.values<FeatureNetworkSpec>(FEATURE_NETWORKS).filter((row) => row.fusion);
  const rows = fusedRows.filter((row, i) => fusedRows.findIndex((other) => other.model === row.model) === i);
  for (const row of rows) {
    const started = performance.now();
    const parts = await Promise.all(row.fusion!.map(async (part) => {
      const spec = featureNetworkSpec(part.network);
      return { spec, model: await readFile(path.join(outDir, `${spec.model}.onnx`)), weight: part.weight };
    }));
    const sourceHash = sha256([Buffer.from(JSON.stringify(row)), ...parts.map((part) => part.model)]);
    const file = path.join(outDir, `${row.model}.onnx`);
    const shown = path.relative(process.cwd(), file);
    const previous = (await readManifest(outDir)).models.find((entry) => entry.name === row.model);
    if (!force && (await isBuilt(previous, sourceHash, converterHash, file))) {
      log(`${row.model}: up to date (${shown})`);
      results.push({ name: row.model, status: 'up to date', file });
      continue;
    }
    const fused = fuseNetworks(row, parts);
    await writeFileAtomic(file, fused);
    // Re-read so that entries other build steps wrote meanwhile are kept.
    const { models } = await readManifest(outDir);
    await writeManifest(outDir, { formatVersion: 1, models: withEntry(models, manifestEntry(row, sourceHash, converterHash, fused)) });
    log(`${row.model}: fused in ${((performance.now() - started) / 1000).toFixed(2)} s -> ${shown} (${(fused.byteLength / 1e6).toFixed(1)} MB)`);
    results.push({ name: row.model, status: 'converted', file });
  }
  return results;
}
