/**
 * A real-depth dataset in the Yale B 3D layout (`../shared/datasets/yaleb3d/dev`, see its README):
 * `<root>/people.json` and, per person, `<root>/<person>/depth.f32` (float32 little-endian,
 * row-major, height x width, NaN outside the face) and `<root>/<person>/photos/*.png`, all in one
 * shared pixel frame.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Face3dError } from '../core/errors.js';

/** Real depth in a photo's pixel frame: larger is nearer the camera, NaN where unknown. */
export interface DepthMap {
  readonly width: number;
  readonly height: number;
  /** Row-major, `width` x `height`; pixel (x, y) is centred at (x + 0.5, y + 0.5). */
  readonly depth: Float32Array;
}

/** The lights of the reference figures in the dataset's README: frontal, from either side, from above and below. */
export const REFERENCE_LIGHTS: readonly string[] = ['P00A+000E+00', 'P00A+025E+00', 'P00A-025E+00', 'P00A+000E+20', 'P00A+000E-20'];

export interface DepthPerson {
  readonly name: string;
  readonly depth: DepthMap;
  /** Paths relative to the root, sorted. */
  readonly photos: readonly string[];
}

interface PeopleEntry {
  readonly person: string;
  readonly width: number;
  readonly height: number;
}

async function readPeople(root: string): Promise<PeopleEntry[]> {
  try {
    return JSON.parse(await readFile(join(root, 'people.json'), 'utf8')) as PeopleEntry[];
  } catch (error) {
    throw new Face3dError('NOT_FOUND', `no readable people.json in ${root} (a real-depth dataset, see ../shared/datasets/yaleb3d/README.md): ${(error as Error).message}`);
  }
}

/**
 * Every person of the dataset; with `photoNames`, only those photos (by the part of the file name
 * after `<person>_`, e.g. `P00A+000E+00`), so every person is seen under the same lights.
 */
export async function readDepthDataset(root: string, photoNames?: readonly string[]): Promise<DepthPerson[]> {
  const entries = await readPeople(root);
  return Promise.all(entries.map(async ({ person, width, height }) => {
    const bytes = await readFile(join(root, person, 'depth.f32')).catch((error: Error) => {
      throw new Face3dError('NOT_FOUND', `no real depth for ${person} in ${root}: ${error.message}`);
    });
    if (bytes.byteLength !== width * height * 4) throw new Face3dError('BAD_USER_INPUT', `${person}/depth.f32 holds ${bytes.byteLength} bytes, expected ${width * height * 4}`);
    const depth = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const files = (await readdir(join(root, person, 'photos')).catch(() => [] as string[])).filter((f) => f.endsWith('.png')).sort();
    const wanted = photoNames ? files.filter((f) => photoNames.some((name) => f === `${person}_${name}.png`)) : files;
    return { name: person, depth: { width, height, depth }, photos: wanted.map((f) => join(person, 'photos', f)) };
  }));
}
