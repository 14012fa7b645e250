/** The encoder each served bundle calls for, found from a FACE3D_BUNDLES entry. */
import { isAbsolute, join, resolve } from 'node:path';
import { readBundleManifest } from '../morphable/bundle.js';
import type { BundleEncoder } from './bundle-encoder.js';
import type { InferenceSettings } from './inference-settings.js';
import { FaceEncoder } from './face-encoder.js';
import { readSeedPreprocessing } from './seed-input.js';
import { SeedEncoder } from './seed-encoder.js';

/** A FACE3D_BUNDLES entry: a bundle id under the models directory, or a path to a bundle directory. */
export function bundleDirOf(entry: string, modelsDir: string): string {
  return isAbsolute(entry) || entry.includes('/') || entry.startsWith('.') ? resolve(entry) : join(modelsDir, entry);
}

/** The encoder the bundle's manifest calls for. */
export async function openBundleEncoder(dir: string, settings: InferenceSettings): Promise<BundleEncoder> {
  const manifest = await readBundleManifest(dir);
  return readSeedPreprocessing(manifest.preprocessing) ? SeedEncoder.open(dir, settings) : FaceEncoder.open(settings, dir);
}
