/** models/build/manifest.json: what was built from what, so rebuilds can be skipped and consumers know the I/O. */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OnnxDim } from '../../src/onnx/onnx-builder.js';
import type { ValueRange } from './models.js';
import { hashFile } from './fingerprint.js';

export const MANIFEST_FILE = 'manifest.json';

export interface ManifestTensor {
  readonly name: string;
  /** NHWC / TF order; "batch" marks the dynamic batch dim, null an unknown one. */
  readonly shape: readonly OnnxDim[];
}

export interface ManifestInput extends ManifestTensor {
  readonly range: ValueRange;
  readonly note: string;
}

export interface ManifestOutput extends ManifestTensor {
  readonly tfNode: string;
  readonly description: string;
  readonly range?: ValueRange;
}

export interface ManifestEntry {
  readonly name: string;
  /** Relative to the manifest. */
  readonly file: string;
  readonly description: string;
  readonly opset: number;
  readonly layout: 'NHWC' | 'NCHW';
  readonly source: { readonly package: string; readonly version: string; readonly files: readonly string[]; readonly sha256: string };
  readonly converter: { readonly version: string; readonly sha256: string };
  readonly onnxSha256: string;
  readonly input: ManifestInput;
  readonly outputs: readonly ManifestOutput[];
}

export interface Manifest {
  readonly formatVersion: 1;
  readonly models: readonly ManifestEntry[];
}

export async function readManifest(directory: string): Promise<Manifest> {
  try {
    const manifest = JSON.parse(await readFile(path.join(directory, MANIFEST_FILE), 'utf8')) as Manifest;
    return manifest.formatVersion === 1 && Array.isArray(manifest.models) ? manifest : { formatVersion: 1, models: [] };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return { formatVersion: 1, models: [] };
    throw error;
  }
}

/** Writes through a temporary file so readers never see half a file. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, file);
}

export async function writeManifest(directory: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(path.join(directory, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Whether `file` is what `entry` records, built from this source by this converter. */
export async function isBuilt(entry: ManifestEntry | undefined, sourceHash: string, converterHash: string, file: string): Promise<boolean> {
  if (entry?.source.sha256 !== sourceHash || entry.converter.sha256 !== converterHash) return false;
  return existsSync(file) && (await hashFile(file)) === entry.onnxSha256;
}

/** `entry` in place of the model's previous entry, or appended. */
export function withEntry(models: readonly ManifestEntry[], entry: ManifestEntry): ManifestEntry[] {
  const index = models.findIndex((other) => other.name === entry.name);
  return index < 0 ? [...models, entry] : models.map((other, i) => (i === index ? entry : other));
}
