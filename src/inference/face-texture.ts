import type { RgbImage } from '../core/image.js';
import { LANDMARK_COUNT } from './landmarks.js';
import { warpToUv, type UvTexture } from '../morphable/uv-warp.js';
import { FACEMESH_TRIANGLES, FACEMESH_UVS } from '../morphable/facemesh-topology.js';
import { rasterizeTriangle } from '../mesh/raster.js';

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
}

/**
 * Per texel, how squarely the photo sees the surface there: cos² of the angle between its FaceMesh
 * triangle's normal and the view direction (MediaPipe's z grows away from the camera, and front
 * faces' normals point to −z). A texel at the face's outline, seen edge-on, gets almost nothing.
 */
export function facingWeights(points: Float32Array, size: number): Float32Array {
  const weights = new Float32Array(size * size);
  for (let t = 0; t < FACEMESH_TRIANGLES.length; t += 3) {
    const [a, b, c] = [FACEMESH_TRIANGLES[t], FACEMESH_TRIANGLES[t + 1], FACEMESH_TRIANGLES[t + 2]];
    const e1 = [0, 1, 2].map((k) => points[3 * b + k] - points[3 * a + k]);
    const e2 = [0, 1, 2].map((k) => points[3 * c + k] - points[3 * a + k]);
    const normal = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
    const facing = Math.max(0, -normal[2] / (Math.hypot(...normal) || 1)) ** 2;
    rasterizeTriangle(
      FACEMESH_UVS[2 * a] * size, FACEMESH_UVS[2 * a + 1] * size, FACEMESH_UVS[2 * b] * size, FACEMESH_UVS[2 * b + 1] * size, FACEMESH_UVS[2 * c] * size, FACEMESH_UVS[2 * c + 1] * size,
      size, size,
      (x, y) => { weights[y * size + x] = facing; },
    );
  }
  return weights;
}

/**
 * How much the model's texture counts at every texel, against a photo's facing weight (cos²): a
 * texel that photos see at more than about 77° from the front is mostly the model's.
 */
const MODEL_TEXTURE_WEIGHT = 0.05;

/**
 * A UV texture of `fallback`'s size from a person's own photos: each photo unwrapped into the
 * FaceMesh layout (texels it does not show, turned away or hidden by the nose, left out), the
 * unwraps averaged texel by texel, each weighted by how squarely its photo sees that texel
 * (`facingWeights`), with the model's texture `fallback` weighted MODEL_TEXTURE_WEIGHT everywhere,
 * so texels no photo shows, or shows only edge-on, are the model's.
 */
export function photoTexture(photos: readonly FacePhoto[], fallback: RgbImage): RgbImage {
  const size = fallback.width;
  const sum = Float64Array.from(fallback.data, (value) => MODEL_TEXTURE_WEIGHT * value);
  const weight = new Float64Array(size * size).fill(MODEL_TEXTURE_WEIGHT);
  for (const photo of photos) {
    const { texture, mask } = faceTexture(photo.image, photo.landmarks, size);
    const facing = facingWeights(photo.landmarks, size);
    for (let texel = 0; texel < mask.length; texel++) {
      const w = mask[texel] * facing[texel];
      if (w === 0) continue;
      weight[texel] += w;
      for (let c = 0; c < 3; c++) sum[3 * texel + c] += w * texture[3 * texel + c];
    }
  }
  return { width: size, height: size, data: Uint8Array.from(sum, (value, i) => Math.round(value / weight[Math.floor(i / 3)])) };
}
