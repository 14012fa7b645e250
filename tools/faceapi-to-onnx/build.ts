/**
 * The face-api part of `npm run models:build`: rebuilds FaceRecognitionNet as
 * <outDir>/faceapi-recognition.onnx and records it in the shared models/build/manifest.json.
 * Skipped when the weights, this code, the shared ONNX helpers and the output file are unchanged.
 */
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions, BuildResult } from '../tfjs-to-onnx/build-models.js';
import { converterSourceHash, sha256 } from '../tfjs-to-onnx/fingerprint.js';
import { isBuilt, readManifest, withEntry, writeFileAtomic, writeManifest, type ManifestEntry } from '../tfjs-to-onnx/manifest.js';
import { OPSET, type ConvertedModel } from '../tfjs-to-onnx/convert.js';
import { EMBEDDING_SIZE, INPUT_SIZE, MEAN_RGB, PIXEL_DIVISOR, RECOGNITION_CONVERTER_VERSION, buildRecognitionModel } from './recognition-net.js';
import { loadFaceapiWeights, type FaceapiWeights } from './source.js';

export const RECOGNITION_MODEL = 'faceapi-recognition';
const SOURCE_MODEL = 'face_recognition_model';

const DESCRIPTION = `face-api FaceRecognitionNet (dlib ResNet-29 port, ${INPUT_SIZE}x${INPUT_SIZE}): ${EMBEDDING_SIZE}-D face descriptor`;
const INPUT_NOTE = `RGB pixels 0..255 of an aligned face crop; the graph computes (pixel - [${MEAN_RGB.join(', ')}]) / ${PIXEL_DIVISOR} as face-api does`;

export type FaceapiBuildOptions = Omit<BuildOptions, 'configs'>;

/** Fingerprint of this folder's code (flat, .ts or compiled .js) and of the tfjs-to-onnx code it builds on. */
async function recognitionConverterHash(): Promise<string> {
  const directory = path.dirname(fileURLToPath(import.meta.url));
  const files = (await readdir(directory)).filter((file) => /\.(js|ts)$/.test(file) && !file.endsWith('.d.ts')).sort();
  const ownCode = await Promise.all(files.map((file) => readFile(path.join(directory, file))));
  return sha256([Buffer.from(await converterSourceHash()), ...files.map((file) => Buffer.from(file)), ...ownCode]);
}

function convert(source: FaceapiWeights): ConvertedModel {
  return buildRecognitionModel(source.tensors, {
    docString: DESCRIPTION,
    metadata: {
      source: `${source.pkg.name}@${source.pkg.version}/${source.files[0]}`,
      layout: 'NHWC',
      input_range: '0..255',
    },
  });
}

/** The in-memory conversion the build writes, for tests and tools that need no file. */
export async function convertFaceapiRecognition(): Promise<ConvertedModel> {
  return convert(await loadFaceapiWeights(SOURCE_MODEL));
}

function manifestEntry(source: FaceapiWeights, converterHash: string, converted: ConvertedModel): ManifestEntry {
  const [input] = converted.inputs;
  const [output] = converted.outputs;
  return {
    name: RECOGNITION_MODEL,
    file: `${RECOGNITION_MODEL}.onnx`,
    description: DESCRIPTION,
    opset: OPSET,
    layout: 'NHWC',
    source: { package: source.pkg.name, version: source.pkg.version, files: source.files, sha256: source.sha256 },
    converter: { version: RECOGNITION_CONVERTER_VERSION, sha256: converterHash },
    onnxSha256: sha256([converted.onnx]),
    input: { ...input, range: [0, 255], note: INPUT_NOTE },
    outputs: [
      {
        ...output,
        tfNode: 'fc',
        description: `${EMBEDDING_SIZE}-D descriptor: global average pool then the fc layer, not L2-normalised (face-api compares by Euclidean distance)`,
      },
    ],
  };
}

export async function buildFaceapiModels(options: FaceapiBuildOptions): Promise<BuildResult[]> {
  const { outDir, force = false, log = () => undefined } = options;
  const started = performance.now();
  await mkdir(outDir, { recursive: true });
  const source = await loadFaceapiWeights(SOURCE_MODEL);
  const converterHash = await recognitionConverterHash();
  const file = path.join(outDir, `${RECOGNITION_MODEL}.onnx`);
  const shown = path.relative(process.cwd(), file);
  const previous = (await readManifest(outDir)).models.find((entry) => entry.name === RECOGNITION_MODEL);
  if (!force && (await isBuilt(previous, source.sha256, converterHash, file))) {
    log(`${RECOGNITION_MODEL}: up to date (${shown})`);
    return [{ name: RECOGNITION_MODEL, status: 'up to date', file }];
  }
  const converted = convert(source);
  await writeFileAtomic(file, converted.onnx);
  // Re-read so that entries other build steps wrote meanwhile are kept.
  const { models } = await readManifest(outDir);
  await writeManifest(outDir, { formatVersion: 1, models: withEntry(models, manifestEntry(source, converterHash, converted)) });
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  log(`${RECOGNITION_MODEL}: converted in ${seconds} s -> ${shown} (${(converted.onnx.byteLength / 1e6).toFixed(1)} MB)`);
  return [{ name: RECOGNITION_MODEL, status: 'converted', file }];
}
