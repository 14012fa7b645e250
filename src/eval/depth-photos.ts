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
import { DOWNLOAD_DEPTH, downloadedDepth, photoIntensity, type DownloadDepthOptions, type ShadingPhoto } from '../morphable/shading-refine.js';
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
  // The crops are the face: the whole photo is its box (the detector misses some of them).
  return encodePhotos(encoder, root, people.flatMap((person) => person.photos.map((path) => ({ person: person.name, path }))), 'whole photo');
}

/** `paths` (under `root`) run through the encoder, each photo's face its whole frame or the largest detected; `failed` counts photos without a face. */
export async function encodePhotos(encoder: FaceEncoder, root: string, paths: readonly { person: string; path: string }[], face: 'whole photo' | 'detected'): Promise<{ photos: EncodedDepthPhoto[]; failed: number }> {
  const encoded = await mapConcurrent(paths, 4, async ({ person, path }): Promise<EncodedDepthPhoto | undefined> => {
    const image = await decodeImage(await readFile(join(root, path)));
    const [found] = await encoder.encode(image, face === 'whole photo' ? { faceBox: { x: 0, y: 0, width: image.width, height: image.height } } : {});
    if (!found) return undefined;
    return { person, path, yaw: found.pose.yaw, landmarks: found.landmarks.points, mesh: neutralShape(encoder.bundle, found.vector.shape), shape: found.vector.shape };
  });
  const photos = encoded.filter((p) => p !== undefined);
  return { photos, failed: paths.length - photos.length };
}

/** How a download's depth is made; the defaults are the product's. */
export interface DownloadSettings {
  /** The most frontal photos a download reads (the gallery hands MAX_TEXTURE_PHOTOS). */
  readonly photos?: number;
  readonly depth?: DownloadDepthOptions;
}

/**
 * One person's template and the photos a download reads, from their encoded photos (under `root`):
 * `regressed`, the template (the mean of their regressed α, as the gallery's template is)
 * reconstructed with the mouth closed; `photos`, their most frontal photos, as many as a download
 * reads, most frontal first.
 */
export async function personPhotos(bundle: Bundle, root: string, own: readonly EncodedDepthPhoto[], settings: DownloadSettings = {}): Promise<{ regressed: Float32Array; photos: ShadingPhoto[] }> {
  const regressed = reconstructMesh(bundle, { shape: meanCoefficients(own.map((p) => p.shape)), texture: [] }).positions;
  const frontal = [...own].sort((a, b) => Math.abs(a.yaw) - Math.abs(b.yaw)).slice(0, settings.photos ?? MAX_TEXTURE_PHOTOS);
  const photos: ShadingPhoto[] = [];
  for (const p of frontal) photos.push({ image: photoIntensity(await decodeImage(await readFile(join(root, p.path)))), landmarks: p.landmarks });
  return { regressed, photos };
}

/**
 * `personPhotos` and `downloaded`, the template's depth from the shading of those photos by the
 * download's own code (`downloadedDepth`, whose shape `exportableMesh` serves) before its
 * subdivision, and `method`, which fit that was (a gated download's choice).
 */
export async function personMeshes(bundle: Bundle, root: string, own: readonly EncodedDepthPhoto[], settings: DownloadSettings = {}): Promise<{ regressed: Float32Array; downloaded: Float32Array; photos: ShadingPhoto[]; method: 'joint' | 'mean' }> {
  const { regressed, photos } = await personPhotos(bundle, root, own, settings);
  const { shape: downloaded, method } = downloadedDepth(regressed, photos, settings.depth ?? DOWNLOAD_DEPTH);
  return { regressed, downloaded, photos, method };
}

/** Every photo with its person's mesh as downloaded (`personMeshes`). */
export async function downloadedDepthPhotos(bundle: Bundle, root: string, photos: readonly EncodedDepthPhoto[], settings: DownloadSettings = {}): Promise<DepthPhoto[]> {
  const people = [...new Set(photos.map((p) => p.person))];
  const served = new Map<string, Float32Array>();
  for (const person of people) served.set(person, (await personMeshes(bundle, root, photos.filter((p) => p.person === person), settings)).downloaded);
  return photos.map((p) => ({ person: p.person, landmarks: p.landmarks, mesh: served.get(p.person)! }));
}
