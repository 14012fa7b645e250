/**
 * What the float pipeline feeds its networks on LFW train photos: the inputs int8 ranges are
 * calibrated on (tools/quantize/calibrate.ts) and int8 recipes are chosen on (image-variants.ts).
 */
import path from 'node:path';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import type { Network } from '../../src/inference/networks.js';
import { mulberry32, shuffleInPlace } from '../../src/training/random.js';

/** `count` photos of distinct people (one per person, shuffled by `seed`), so no one dominates. */
export async function choosePhotos(root: string, count: number, seed: number): Promise<string[]> {
  if (/\bdev\b/.test(path.resolve(root))) throw new Error('int8 calibration must not see dev photos');
  const people = await listPeople(root);
  const random = mulberry32(seed);
  shuffleInPlace(people, random);
  return people.slice(0, count).map((person) => path.join(root, person.images[Math.floor(random() * person.images.length)]));
}

/** `network` as it was, keeping a copy of every item it is fed. */
export function recording(network: Network, sink: Float32Array[]): Network {
  return { ...network, infer: (item) => (sink.push(item.slice()), network.infer(item)) };
}
