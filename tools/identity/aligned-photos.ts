import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeImage } from '../../src/inference/decode.js';
import { centralDetection, detectFaces, largestDetection } from '../../src/inference/detector.js';
import { detectLandmarks, regionFromDetection } from '../../src/inference/landmarks.js';
import type { AnalyseOptions, FaceNetworks } from '../../src/inference/pipeline.js';
import type { RgbImage } from '../../src/core/image.js';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { POINT_VALUES } from '../extract/cache.js';

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

/**
 * The FaceMesh points (flat, `POINT_VALUES` per photo; NaN rows where no face was found) of each
 * photo's chosen face, photos decoded a chunk at a time so that a large set is never held at once.
 */
export async function landmarkedPoints(root: string, paths: readonly string[], networks: Pick<FaceNetworks, 'detector' | 'landmarks'>, select: FaceSelection, progress?: (done: number) => void): Promise<Float32Array> {
  const CHUNK = 100;
  const points = new Float32Array(paths.length * POINT_VALUES).fill(Number.NaN);
  for (let start = 0; start < paths.length; start += CHUNK) {
    const aligned = await alignPhotos(root, paths.slice(start, start + CHUNK), networks, select, 2);
    paths.slice(start, start + CHUNK).forEach((path, i) => {
      const found = aligned.get(path)!.points;
      if (found) points.set(found, (start + i) * POINT_VALUES);
    });
    progress?.(Math.min(start + CHUNK, paths.length));
  }
  return points;
}

/** Every image path a pairs list mentions, each once, in first-seen order. */
export function photosOf(pairs: readonly { imageA: string; imageB: string }[]): string[] {
  return [...new Set(pairs.flatMap((pair) => [pair.imageA, pair.imageB]))];
}
