/**
 * What the server asks of any bundle's encoder: photo in, one identity vector per face out, in
 * that bundle's coefficient space. Our own bundles regress from identity features (FaceEncoder);
 * imported CNN3DMM bundles run the seed's network on its own crop (SeedEncoder).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { readBundleManifest, type Bundle } from '../morphable/bundle.js';
import type { EncodedFace } from './face-encoder.js';
import { FaceEncoder } from './face-encoder.js';
import type { RgbImage } from '../core/image.js';
import type { AnalyseOptions } from './pipeline.js';
import { readSeedPreprocessing } from './seed-input.js';
import { SeedEncoder } from './seed-encoder.js';

export interface BundleEncoder {
  readonly bundleId: string;
  readonly bundle: Bundle;
  /** The largest face (or every face, or the face in `faceBox`), each with its vector under this bundle. */
  encode(image: RgbImage, options?: AnalyseOptions): Promise<EncodedFace[]>;
  close(): Promise<void>;
}

/** A FACE3D_BUNDLES entry: a bundle id under the models directory, or a path to a bundle directory. */
export function bundleDirOf(entry: string, modelsDir: string): string {
  return isAbsolute(entry) || entry.includes('/') || entry.startsWith('.') ? resolve(entry) : join(modelsDir, entry);
}

/** The encoder the bundle's manifest calls for. */
export async function openBundleEncoder(dir: string): Promise<BundleEncoder> {
  const manifest = await readBundleManifest(dir);
  return readSeedPreprocessing(manifest.preprocessing) ? SeedEncoder.open(dir) : FaceEncoder.open(dir);
}
