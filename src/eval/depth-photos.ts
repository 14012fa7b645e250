/**
 * The photos of a real-depth dataset run through the service: each photo's FaceMesh landmarks and
 * regressed identity, the input of `depthFidelity` for `face3d eval fidelity3d` and experiments;
 * and each person's mesh as a download serves it (the template refined by their photos' shading).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mapConcurrent } from '../core/concurrency.js';
import type { DepthPerson } from '../dataset/depth-dataset.js';
import { decodeImage } from '../inference/decode.js';
import type { FaceEncoder } from '../inference/face-encoder.js';
import { neutralShape, type Bundle } from '../morphable/bundle.js';
import { reconstructMesh } from '../morphable/reconstruct.js';
import { photoIntensity, shadingRefinedShape } from '../morphable/shading-refine.js';
import { MAX_TEXTURE_PHOTOS } from '../gallery/gallery.js';
import { meanCoefficients } from '../gallery/coefficients.js';
import type { DepthPhoto } from './depth-fidelity.js';

export interface EncodedDepthPhoto extends DepthPhoto {
  /** The regressed α. */
  readonly shape: Float32Array;
  /** The photo's file under the dataset's root. */
  readonly path: string;
  readonly yaw: number;
}

/** Every photo of `people` with a face; `failed` counts those without. */
export async function encodeDepthPhotos(encoder: FaceEncoder, root: string, people: readonly DepthPerson[]): Promise<{ photos: EncodedDepthPhoto[]; failed: number }> {
  const paths = people.flatMap((person) => person.photos.map((path) => ({ person: person.name, path })));
  const encoded = await mapConcurrent(paths, 4, async ({ person, path }): Promise<EncodedDepthPhoto | undefined> => {
    const image = await decodeImage(await readFile(join(root, path)));
    // The crops are the face: the whole photo is its box (the detector misses some of them).
    const [face] = await encoder.encode(image, { faceBox: { x: 0, y: 0, width: image.width, height: image.height } });
    if (!face) return undefined;
    return { person, path, yaw: face.pose.yaw, landmarks: face.landmarks.points, mesh: neutralShape(encoder.bundle, face.vector.shape), shape: face.vector.shape };
  });
  const photos = encoded.filter((p) => p !== undefined);
  return { photos, failed: paths.length - photos.length };
}

/**
 * Every photo with its person's mesh as downloaded: the template (the mean of the person's regressed
 * α, as the gallery's template is) reconstructed with the mouth closed, its depth refined by the shading of the person's most frontal photos, as many as
 * a download reads (`exportableMesh`), before the download's subdivision.
 */
export async function downloadedDepthPhotos(bundle: Bundle, root: string, photos: readonly EncodedDepthPhoto[]): Promise<DepthPhoto[]> {
  const people = [...new Set(photos.map((p) => p.person))];
  const served = new Map<string, Float32Array>();
  for (const person of people) {
    const own = photos.filter((p) => p.person === person);
    const template = meanCoefficients(own.map((p) => p.shape));
    const shading = [...own].sort((a, b) => Math.abs(a.yaw) - Math.abs(b.yaw)).slice(0, MAX_TEXTURE_PHOTOS);
    const intensities = await Promise.all(shading.map(async (p) => ({ image: photoIntensity(await decodeImage(await readFile(join(root, p.path)))), landmarks: p.landmarks })));
    served.set(person, shadingRefinedShape(reconstructMesh(bundle, { shape: template, texture: [] }).positions, intensities));
  }
  return photos.map((p) => ({ person: p.person, landmarks: p.landmarks, mesh: served.get(p.person)! }));
}
