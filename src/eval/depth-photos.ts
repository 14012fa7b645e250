/**
 * The photos of a real-depth dataset run through the service: each photo's FaceMesh landmarks and
 * regressed identity, the input of `depthFidelity` for `face3d eval fidelity3d` and experiments.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mapConcurrent } from '../core/concurrency.js';
import type { DepthPerson } from '../dataset/depth-dataset.js';
import { decodeImage } from '../inference/decode.js';
import type { FaceEncoder } from '../inference/face-encoder.js';
import { neutralShape } from '../morphable/bundle.js';
import type { DepthPhoto } from './depth-fidelity.js';

export interface EncodedDepthPhoto extends DepthPhoto {
  /** The regressed α. */
  readonly shape: Float32Array;
}

/** Every photo of `people` with a face; `failed` counts those without. */
export async function encodeDepthPhotos(encoder: FaceEncoder, root: string, people: readonly DepthPerson[]): Promise<{ photos: EncodedDepthPhoto[]; failed: number }> {
  const paths = people.flatMap((person) => person.photos.map((path) => ({ person: person.name, path })));
  const encoded = await mapConcurrent(paths, 4, async ({ person, path }): Promise<EncodedDepthPhoto | undefined> => {
    const image = await decodeImage(await readFile(join(root, path)));
    // The crops are the face: the whole photo is its box (the detector misses some of them).
    const [face] = await encoder.encode(image, { faceBox: { x: 0, y: 0, width: image.width, height: image.height } });
    if (!face) return undefined;
    return { person, landmarks: face.landmarks.points, mesh: neutralShape(encoder.bundle, face.vector.shape), shape: face.vector.shape };
  });
  const photos = encoded.filter((p) => p !== undefined);
  return { photos, failed: paths.length - photos.length };
}
