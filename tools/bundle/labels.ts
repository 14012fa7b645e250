/** Per-person training labels of a bundle: pooled shape (α) and texture (β) coefficients. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface PersonLabel {
  readonly person: string;
  /** Paths (relative to the dataset root) of the photos pooled into this label. */
  readonly photos: readonly string[];
  readonly shape: readonly number[];
  readonly texture: readonly number[];
}

export interface LabelFile {
  readonly bundle: string;
  readonly labels: readonly PersonLabel[];
}

export async function saveLabels(path: string, file: LabelFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(file));
}

export async function loadLabels(path: string): Promise<LabelFile> {
  return JSON.parse(await readFile(path, 'utf8')) as LabelFile;
}

/** One person's name per line (LFW folder names); blank lines and `#` comments are ignored. */
export async function readPeopleList(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/)[0]);
}
