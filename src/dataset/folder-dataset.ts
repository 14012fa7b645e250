import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Face3dError } from '../core/errors.js';
import { mulberry32, randomInt } from '../training/random.js';

/** Two images of a dataset, of one person or of two. */
export interface ImagePair {
  /** Image paths, relative to the dataset root. */
  readonly imageA: string;
  readonly imageB: string;
  readonly same: boolean;
}

/** A folder-per-person dataset (LFW's layout): `<root>/<Person>/<image>`. */
export interface Person {
  readonly name: string;
  /** Paths relative to the root, sorted. */
  readonly images: readonly string[];
}

const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp|gif|tiff?|avif)$/i;

export async function listPeople(root: string): Promise<Person[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new Face3dError('NOT_FOUND', `cannot read dataset folder ${root}: ${(error as Error).message}`);
  }
  const people: Person[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const files = (await readdir(join(root, entry.name))).filter((f) => IMAGE_EXTENSIONS.test(f)).sort();
    if (files.length > 0) people.push({ name: entry.name, images: files.map((f) => `${entry.name}/${f}`) });
  }
  return people;
}

/**
 * Deterministic verification pairs from a folder dataset (for tuning on training people without
 * touching the evaluation pairs): half same-person pairs, half different-person pairs.
 */
export function samplePairs(people: readonly Person[], pairsPerKind: number, seed: number): ImagePair[] {
  const random = mulberry32(seed);
  const pick = <T>(values: readonly T[]): T => values[randomInt(random, values.length)];
  const repeated = people.filter((p) => p.images.length >= 2);
  if (repeated.length === 0 || people.length < 2) throw new Face3dError('BAD_USER_INPUT', 'need people with two photos and at least two people');
  const pairs: ImagePair[] = [];
  for (let i = 0; i < pairsPerKind; i++) {
    const person = pick(repeated);
    const a = randomInt(random, person.images.length);
    const b = (a + 1 + randomInt(random, person.images.length - 1)) % person.images.length;
    pairs.push({ imageA: person.images[a], imageB: person.images[b], same: true });
  }
  for (let i = 0; i < pairsPerKind; i++) {
    const first = pick(people);
    let second = pick(people);
    while (second === first) second = pick(people);
    pairs.push({ imageA: pick(first.images), imageB: pick(second.images), same: false });
  }
  return pairs;
}
