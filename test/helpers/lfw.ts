/** LFW's test-split people, for tests that need real faces (they skip when the dataset is absent). */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const LFW_DEV = join(process.cwd(), '../shared/datasets/lfw/dev');

export interface LfwPerson {
  readonly name: string;
  readonly photos: readonly string[];
}

/**
 * People of LFW's View 1 test split (never used to train the models) with at least `minPhotos`
 * photos, most photographed first; null when the dataset is absent.
 */
export function lfwPeople(minPhotos: number): LfwPerson[] | null {
  if (!existsSync(LFW_DEV)) return null;
  return readdirSync(LFW_DEV)
    .map((name) => ({ name, photos: readdirSync(join(LFW_DEV, name)).sort().map((file) => join(LFW_DEV, name, file)) }))
    .filter((person) => person.photos.length >= minPhotos)
    .sort((a, b) => b.photos.length - a.photos.length || a.name.localeCompare(b.name));
}
