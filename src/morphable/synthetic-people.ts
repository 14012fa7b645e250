/**
 * Made-up people for `face3d sample-photos`, the viewer's tests and screenshots, rendered from our
 * own 3DMM (never from a dataset's photos): each person is one random identity (α, β drawn from
 * the model's normal prior), photographed as renders from a few angles on a plain background, as
 * JPEG files.
 */
import sharp from 'sharp';
import type { Bundle } from './bundle.js';
import { reconstructMesh } from './reconstruct.js';
import { renderMesh } from '../mesh/render.js';
import { mulberry32, randomNormal, type Random } from '../training/random.js';

export interface SyntheticPerson {
  readonly name: string;
  /** JPEG files, one per view. */
  readonly photos: readonly Buffer[];
}

const NAMES = ['Ada Synth', 'Bruno Synth', 'Chiara Synth', 'Dmitri Synth', 'Elif Synth', 'Femi Synth'];
/** Turns of the head per photo: frontal first, then both sides and a slight tilt. */
const VIEWS = [
  { yawDeg: 0, pitchDeg: 0 },
  { yawDeg: 18, pitchDeg: 4 },
  { yawDeg: -15, pitchDeg: -3 },
  { yawDeg: 8, pitchDeg: -6 },
] as const;
const PHOTO_SIZE = 320;
/** How far from the mean face identities are drawn, in standard deviations: distinct, still plausible. */
const SPREAD = 1.5;

function coefficients(count: number, random: Random): number[] {
  return Array.from({ length: count }, () => SPREAD * randomNormal(random));
}

/** `count` people (at most NAMES.length) with `photosEach` photos (at most VIEWS.length); the same seed gives the same people. */
export async function syntheticPeople(bundle: Bundle, count: number, photosEach: number, seed = 7): Promise<SyntheticPerson[]> {
  const random = mulberry32(seed);
  const { shape, texture } = bundle.manifest;
  const people: SyntheticPerson[] = [];
  for (const name of NAMES.slice(0, count)) {
    const mesh = reconstructMesh(bundle, { shape: coefficients(shape.components, random), texture: coefficients(texture.components, random) });
    const grey = 170 + Math.floor(random() * 60);
    const photos: Buffer[] = [];
    for (const view of VIEWS.slice(0, photosEach)) {
      const image = renderMesh(mesh, { width: PHOTO_SIZE, height: PHOTO_SIZE, mode: 'textured', background: [grey, grey, grey + 8], ...view });
      photos.push(await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
    }
    people.push({ name, photos });
  }
  return people;
}

/** A photo without a face (a plain blue square), for the "no face" path. */
export function faceless(): Promise<Buffer> {
  return sharp({ create: { width: 200, height: 200, channels: 3, background: { r: 120, g: 160, b: 200 } } }).jpeg().toBuffer();
}
