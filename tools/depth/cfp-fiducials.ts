/**
 * CFP's hand-marked points per person (`Data/Fiducials/NNN/{frontal,profile}/NN.txt`, one "x,y" line
 * per point; see ../shared/datasets/cfp/README.md), oriented as views of the subject's right half.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CFP_POINT_COUNT, orientCfpView } from '../../src/morphable/cfp-markup.js';

export interface CfpPersonViews {
  readonly person: string;
  readonly frontal: readonly Float64Array[];
  readonly profile: readonly Float64Array[];
}

async function readMarkup(path: string): Promise<Float64Array> {
  const values = (await readFile(path, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '').flatMap((l) => l.split(',').map(Number));
  if (values.length !== 2 * CFP_POINT_COUNT || values.some((v) => !Number.isFinite(v))) throw new Error(`${path}: expected ${CFP_POINT_COUNT} "x,y" lines`);
  return Float64Array.from(values);
}

async function readViews(dir: string, view: 'frontal' | 'profile'): Promise<Float64Array[]> {
  const files = (await readdir(join(dir, view))).filter((f) => f.endsWith('.txt')).sort();
  return Promise.all(files.map(async (f) => orientCfpView(await readMarkup(join(dir, view, f)), view)));
}

/** Every person under `<root>/Data/Fiducials`, in folder order. */
export async function readCfpViews(root: string): Promise<CfpPersonViews[]> {
  const base = join(root, 'Data', 'Fiducials');
  const people = (await readdir(base)).filter((p) => /^\d+$/.test(p)).sort();
  return Promise.all(people.map(async (person) => ({ person, frontal: await readViews(join(base, person), 'frontal'), profile: await readViews(join(base, person), 'profile') })));
}
