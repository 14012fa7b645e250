/**
 * face-api ships its nets as TF.js "weights manifests": weight groups and .bin shards, no graph.
 * This reads one such manifest and its shards from the installed @vladmandic/face-api.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../tfjs-to-onnx/fingerprint.js';
import type { WeightGroup } from '../tfjs-to-onnx/graph-model.js';
import { decodeWeights, type ConstTensor } from '../tfjs-to-onnx/weights.js';

export const FACEAPI_PACKAGE = '@vladmandic/face-api';

export interface FaceapiPackage {
  readonly name: string;
  readonly version: string;
  /** The package root; its model/ folder holds the weights manifests. */
  readonly root: string;
}

export interface FaceapiWeights {
  readonly pkg: FaceapiPackage;
  readonly tensors: ReadonlyMap<string, ConstTensor>;
  /** The manifest then its shards, relative to the package root with "/" separators. */
  readonly files: readonly string[];
  /** SHA-256 over the bytes of `files`, in order. */
  readonly sha256: string;
}

/** Resolved like an import, so it works from the .ts sources and from dist/. */
export function locateFaceapiPackage(): FaceapiPackage {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve(`${FACEAPI_PACKAGE}/package.json`);
  const { version } = require(packageJson) as { version: string };
  return { name: FACEAPI_PACKAGE, version, root: path.dirname(packageJson) };
}

/** `model/<modelName>-weights_manifest.json` and its shards, decoded (uint8 quantisation undone). */
export async function loadFaceapiWeights(modelName: string, pkg: FaceapiPackage = locateFaceapiPackage()): Promise<FaceapiWeights> {
  const manifestFile = path.join('model', `${modelName}-weights_manifest.json`);
  const manifestBytes = await readFile(path.join(pkg.root, manifestFile));
  const groups = JSON.parse(manifestBytes.toString('utf8')) as readonly WeightGroup[];
  const shards = groups.flatMap((group) => group.paths).map((shard) => path.join(path.dirname(manifestFile), shard));
  const weightData = new Uint8Array(Buffer.concat(await Promise.all(shards.map((shard) => readFile(path.join(pkg.root, shard))))));
  return {
    pkg,
    tensors: decodeWeights(groups, weightData),
    files: [manifestFile, ...shards].map((file) => file.split(path.sep).join('/')),
    sha256: sha256([manifestBytes, weightData]),
  };
}
