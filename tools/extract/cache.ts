/**
 * The extraction cache: per photo of a folder dataset, what the face stages found, stored in
 * shards so an interrupted run resumes where it stopped. Each shard is a JSON index plus two flat
 * binary files (float32 landmarks+features, uint8 texture+mask) that load without parsing.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Box } from '../../src/core/image.js';
import { LANDMARK_COUNT } from '../../src/inference/landmarks.js';
import { TEXTURE_SIZE } from '../../src/inference/face-texture.js';

/** Version 2 names the identity network of the features; version 1 caches hold FaceRes's 1024 values. */
export const CACHE_VERSION = 2;
const VERSION_1_NETWORK = { featureNetwork: 'faceres', featureDim: 1024 } as const;
export const POINT_VALUES = LANDMARK_COUNT * 3;
export const TEXTURE_BYTES = TEXTURE_SIZE * TEXTURE_SIZE * 3;
export const MASK_BYTES = TEXTURE_SIZE * TEXTURE_SIZE;
const BYTES_PER_PHOTO = TEXTURE_BYTES + MASK_BYTES;

/** Which identity network (feature-networks.ts) filled the features, and their length. */
export interface CachedFeatures {
  readonly featureNetwork: string;
  readonly featureDim: number;
}

export interface PhotoEntry {
  readonly path: string;
  readonly person: string;
  /** `ok`, or the error code that stopped this photo (NO_FACE, CORRUPT_IMAGE, ...). */
  readonly status: string;
  readonly box?: Box;
  readonly score?: number;
  /** FaceMesh's face-presence probability. */
  readonly confidence?: number;
}

export interface ExtractedPhoto {
  readonly entry: PhotoEntry;
  readonly points?: Float32Array;
  readonly features?: Float32Array;
  readonly texture?: Uint8Array;
  readonly mask?: Uint8Array;
}

interface ShardIndex extends Partial<CachedFeatures> {
  readonly version: number;
  readonly entries: PhotoEntry[];
}

export function shardName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}`;
}

/** Writes a shard; the index is renamed into place last, so a shard either exists whole or not at all. */
export async function writeShard(dir: string, index: number, photos: readonly ExtractedPhoto[], network: CachedFeatures): Promise<void> {
  const FLOATS_PER_PHOTO = POINT_VALUES + network.featureDim;
  const ok = photos.filter((p) => p.entry.status === 'ok');
  const floats = new Float32Array(ok.length * FLOATS_PER_PHOTO);
  const bytes = new Uint8Array(ok.length * BYTES_PER_PHOTO);
  ok.forEach((p, i) => {
    floats.set(p.points!, i * FLOATS_PER_PHOTO);
    floats.set(p.features!, i * FLOATS_PER_PHOTO + POINT_VALUES);
    bytes.set(p.texture!, i * BYTES_PER_PHOTO);
    bytes.set(p.mask!, i * BYTES_PER_PHOTO + TEXTURE_BYTES);
  });
  const name = shardName(index);
  await writeFile(join(dir, `${name}.f32`), floats);
  await writeFile(join(dir, `${name}.u8`), bytes);
  const indexFile: ShardIndex = { version: CACHE_VERSION, ...network, entries: photos.map((p) => p.entry) };
  await writeFile(join(dir, `${name}.json.tmp`), JSON.stringify(indexFile));
  await rename(join(dir, `${name}.json.tmp`), join(dir, `${name}.json`));
}

export function shardExists(dir: string, index: number): boolean {
  return existsSync(join(dir, `${shardName(index)}.json`));
}

/** Every photo of an extraction, in dataset order; arrays hold the `ok` photos only, in order. */
export interface Extraction extends CachedFeatures {
  readonly entries: PhotoEntry[];
  /** For each `ok` photo, its entry. */
  readonly faces: PhotoEntry[];
  readonly points: Float32Array;
  readonly features: Float32Array;
  readonly textures: Uint8Array;
  readonly masks: Uint8Array;
}

export async function loadExtraction(dir: string): Promise<Extraction> {
  const names = (await readdir(dir)).filter((f) => /^shard-\d+\.json$/.test(f)).sort();
  if (names.length === 0) throw new Error(`no extraction in ${dir}: run npm run train:extract first`);
  const entries: PhotoEntry[] = [];
  const faces: PhotoEntry[] = [];
  const floatParts: Float32Array[] = [];
  const byteParts: Uint8Array[] = [];
  let network: CachedFeatures | undefined;
  for (const name of names) {
    const index = JSON.parse(await readFile(join(dir, name), 'utf8')) as ShardIndex;
    if (index.version !== CACHE_VERSION && index.version !== 1) throw new Error(`${name} is cache version ${index.version}, expected ${CACHE_VERSION}: extract again`);
    const shardNetwork: CachedFeatures = index.version === 1 ? VERSION_1_NETWORK : { featureNetwork: index.featureNetwork!, featureDim: index.featureDim! };
    network ??= shardNetwork;
    if (shardNetwork.featureNetwork !== network.featureNetwork) throw new Error(`${dir} mixes ${network.featureNetwork} and ${shardNetwork.featureNetwork} features: extract again into an empty folder`);
    const base = name.replace(/\.json$/, '');
    const f = await readFile(join(dir, `${base}.f32`));
    floatParts.push(new Float32Array(f.buffer, f.byteOffset, f.byteLength / 4));
    byteParts.push(await readFile(join(dir, `${base}.u8`)));
    entries.push(...index.entries);
    faces.push(...index.entries.filter((e) => e.status === 'ok'));
  }
  const { featureDim } = network!;
  const FLOATS_PER_PHOTO = POINT_VALUES + featureDim;
  const n = faces.length;
  const points = new Float32Array(n * POINT_VALUES);
  const features = new Float32Array(n * featureDim);
  const textures = new Uint8Array(n * TEXTURE_BYTES);
  const masks = new Uint8Array(n * MASK_BYTES);
  let row = 0;
  floatParts.forEach((floats, part) => {
    const bytes = byteParts[part];
    for (let i = 0; i < floats.length / FLOATS_PER_PHOTO; i++, row++) {
      points.set(floats.subarray(i * FLOATS_PER_PHOTO, i * FLOATS_PER_PHOTO + POINT_VALUES), row * POINT_VALUES);
      features.set(floats.subarray(i * FLOATS_PER_PHOTO + POINT_VALUES, (i + 1) * FLOATS_PER_PHOTO), row * featureDim);
      textures.set(bytes.subarray(i * BYTES_PER_PHOTO, i * BYTES_PER_PHOTO + TEXTURE_BYTES), row * TEXTURE_BYTES);
      masks.set(bytes.subarray(i * BYTES_PER_PHOTO + TEXTURE_BYTES, (i + 1) * BYTES_PER_PHOTO), row * MASK_BYTES);
    }
  });
  return { ...network!, entries, faces, points, features, textures, masks };
}
