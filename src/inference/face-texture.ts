import type { RgbImage } from './image.js';
import { LANDMARK_COUNT } from './landmarks.js';
import { warpToUv, type UvTexture } from '../morphable/uv-warp.js';

/** Side of the UV texture every face is warped to: the texture model's resolution. */
export const TEXTURE_SIZE = 128;

/**
 * The face's colours in the fixed FaceMesh UV layout, with a mask of the texels the photo shows
 * (parts turned away from the camera are masked, not smeared).
 */
export function faceTexture(image: RgbImage, points: Float32Array): UvTexture {
  const points2d = new Float32Array(LANDMARK_COUNT * 2);
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    points2d[i * 2] = points[i * 3];
    points2d[i * 2 + 1] = points[i * 3 + 1];
  }
  return warpToUv(image, points2d, TEXTURE_SIZE, points);
}
