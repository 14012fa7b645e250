import type { RgbImage } from './image.js';
import { fitConfidence } from '../morphable/fit.js';
import { LANDMARK_COUNT } from './landmarks.js';
import { warpToUv, type UvTexture } from '../morphable/uv-warp.js';

/** Side of the UV texture every face is warped to: the texture model's resolution. */
export const TEXTURE_SIZE = 128;

/**
 * The face's colours in the fixed FaceMesh UV layout, with a mask of the texels the photo shows
 * (parts turned away from the camera are masked, not smeared).
 */
export function faceTexture(image: RgbImage, points: Float32Array, size = TEXTURE_SIZE): UvTexture {
  const points2d = new Float32Array(LANDMARK_COUNT * 2);
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    points2d[i * 2] = points[i * 3];
    points2d[i * 2 + 1] = points[i * 3 + 1];
  }
  return warpToUv(image, points2d, size, points);
}

/** One photo of a face and its FaceMesh landmarks (photo pixels). */
export interface FacePhoto {
  readonly image: RgbImage;
  readonly landmarks: Float32Array;
  readonly yaw: number;
}

/**
 * A UV texture of `fallback`'s size from a person's own photos: each photo unwrapped into the
 * FaceMesh layout (texels it does not show, turned away or hidden by the nose, left out), the
 * unwraps averaged texel by texel, each photo weighted as pooled fits are (cos² of its yaw), and the
 * texels no photo shows taken from `fallback` (the model's texture).
 */
export function photoTexture(photos: readonly FacePhoto[], fallback: RgbImage): RgbImage {
  const size = fallback.width;
  const sum = new Float64Array(size * size * 3);
  const weight = new Float64Array(size * size);
  for (const photo of photos) {
    const { texture, mask } = faceTexture(photo.image, photo.landmarks, size);
    const w = fitConfidence(1, photo.yaw);
    for (let texel = 0; texel < mask.length; texel++) {
      if (!mask[texel]) continue;
      weight[texel] += w;
      for (let c = 0; c < 3; c++) sum[3 * texel + c] += w * texture[3 * texel + c];
    }
  }
  const data = Uint8Array.from(fallback.data, (value, i) => {
    const w = weight[Math.floor(i / 3)];
    return w > 0 ? Math.round(sum[i] / w) : value;
  });
  return { width: size, height: size, data };
}
