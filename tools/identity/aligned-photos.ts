import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeImage } from '../../src/inference/decode.js';
import { centralDetection, detectFaces, largestDetection } from '../../src/inference/detector.js';
import { detectLandmarks, regionFromDetection } from '../../src/inference/landmarks.js';
import type { AnalyseOptions, FaceNetworks } from '../../src/inference/pipeline.js';
import type { RgbImage } from '../../src/core/image.js';
import { mapConcurrent } from '../../src/core/concurrency.js';

/** A photo decoded once, with the FaceMesh landmarks of its chosen face when one was found. */
export interface AlignedPhoto {
  readonly image: RgbImage;
  readonly points?: Float32Array;
}

/** Which detected face is the photo's subject: the service's largest, or the central one of a centred portrait. */
export type FaceSelection = NonNullable<AnalyseOptions['select']>;

/**
 * Decodes each photo and runs the service's detection and landmark stages on it once, so that
 * every crop framing and every identity network afterwards reuses the same landmarks.
 */
export async function alignPhotos(
  root: string,
  paths: readonly string[],
  networks: Pick<FaceNetworks, 'detector' | 'landmarks'>,
  select: FaceSelection,
  concurrency = 8,
): Promise<Map<string, AlignedPhoto>> {
  const photos = await mapConcurrent(paths, concurrency, async (path): Promise<AlignedPhoto> => {
    const image = await decodeImage(await readFile(join(root, path)));
    const found = await detectFaces(networks.detector, image);
    const detection = select === 'central' ? centralDetection(found, image.width, image.height) : largestDetection(found);
    if (!detection) return { image };
    const { points } = await detectLandmarks(networks.landmarks, image, regionFromDetection(detection));
    return { image, points };
  });
  return new Map(paths.map((path, i) => [path, photos[i]]));
}

/** Every image path a pairs list mentions, each once, in first-seen order. */
export function photosOf(pairs: readonly { imageA: string; imageB: string }[]): string[] {
  return [...new Set(pairs.flatMap((pair) => [pair.imageA, pair.imageB]))];
}
