/** Content hashes that decide whether a built model is stale. */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function sha256(parts: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

export async function hashFile(file: string): Promise<string> {
  return sha256([await readFile(file)]);
}

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(directory, entry.name);
      return entry.isDirectory() ? listFiles(full) : Promise.resolve([full]);
    }),
  );
  return nested.flat();
}

/**
 * Fingerprint of the converter's own code (this folder, as .ts or compiled .js), so that any
 * change to it rebuilds the models.
 */
export async function converterSourceHash(): Promise<string> {
  const directory = path.dirname(fileURLToPath(import.meta.url));
  const files = (await listFiles(directory)).filter((file) => /\.(js|ts)$/.test(file) && !file.endsWith('.d.ts')).sort();
  const parts = await Promise.all(files.map(async (file) => Buffer.concat([Buffer.from(path.relative(directory, file)), await readFile(file)])));
  return sha256(parts);
}

/**
 * Fingerprint of one build step's own folder (its .ts or compiled .js files, not below) and a
 * version string, so that a change to its code rebuilds what it made.
 */
export async function folderCodeHash(directory: string, version: string): Promise<string> {
  const files = (await readdir(directory)).filter((file) => /\.(js|ts)$/.test(file) && !file.endsWith('.d.ts')).sort();
  return sha256([Buffer.from(version), ...(await Promise.all(files.map((file) => readFile(path.join(directory, file)))))]);
}
