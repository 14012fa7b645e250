/**
 * Piecewise-affine warp of a photo into the FaceMesh UV layout: every texel inside a triangle of
 * the layout takes the photo colour at the same barycentric position of that triangle's landmarks.
 */
import { Face3dError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import { rasterizeTriangle, sampleBilinear } from '../mesh/raster.js';
import { FACEMESH_TRIANGLES, FACEMESH_UVS, FACEMESH_VERTEX_COUNT } from './facemesh-topology.js';

export interface UvTexture {
  readonly size: number;
  /** size x size RGB, row-major; 0 where mask is 0. */
  readonly texture: Uint8Array;
  /** size x size, 1 where a visible triangle inside the photo covered the texel. */
  readonly mask: Uint8Array;
}

/**
 * A texel whose depth lies within this fraction of the face size behind the nearest surface at its
 * photo position still counts as seen: landmark depth is noisy, occlusion by the nose is not subtle.
 */
const DEPTH_TOLERANCE_FRACTION = 0.02;

/** Nearest depth (MediaPipe z: smaller is closer) per photo pixel over the landmarks' bounding box. */
interface DepthBuffer {
  readonly x0: number;
  readonly y0: number;
  readonly width: number;
  readonly height: number;
  readonly depth: Float32Array;
  readonly tolerance: number;
}

function checkLength(name: string, points: Float32Array, perVertex: number): void {
  if (points.length !== FACEMESH_VERTEX_COUNT * perVertex) {
    throw new Face3dError(
      'BAD_USER_INPUT',
      `${name} must hold ${FACEMESH_VERTEX_COUNT} x ${perVertex} values, got ${points.length}`,
    );
  }
}

/** Seen from the camera, front faces are counter-clockwise: negative signed area with y down. */
function facesCamera(points3d: Float32Array, a: number, b: number, c: number): boolean {
  const abx = points3d[3 * b] - points3d[3 * a];
  const aby = points3d[3 * b + 1] - points3d[3 * a + 1];
  const acx = points3d[3 * c] - points3d[3 * a];
  const acy = points3d[3 * c + 1] - points3d[3 * a + 1];
  return abx * acy - acx * aby < 0;
}

function buildDepthBuffer(image: RgbImage, points3d: Float32Array, front: Uint8Array): DepthBuffer {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < points3d.length; i += 3) {
    minX = Math.min(minX, points3d[i]);
    maxX = Math.max(maxX, points3d[i]);
    minY = Math.min(minY, points3d[i + 1]);
    maxY = Math.max(maxY, points3d[i + 1]);
  }
  const x0 = Math.max(0, Math.floor(minX));
  const y0 = Math.max(0, Math.floor(minY));
  const width = Math.max(0, Math.min(image.width, Math.ceil(maxX) + 1) - x0);
  const height = Math.max(0, Math.min(image.height, Math.ceil(maxY) + 1) - y0);
  const depth = new Float32Array(width * height).fill(Infinity);
  for (let t = 0; t < front.length; t++) {
    if (!front[t]) continue;
    const [a, b, c] = [3 * FACEMESH_TRIANGLES[3 * t], 3 * FACEMESH_TRIANGLES[3 * t + 1], 3 * FACEMESH_TRIANGLES[3 * t + 2]];
    rasterizeTriangle(
      points3d[a] - x0, points3d[a + 1] - y0, points3d[b] - x0, points3d[b + 1] - y0, points3d[c] - x0, points3d[c + 1] - y0,
      width, height,
      (px, py, wa, wb, wc) => {
        const z = wa * points3d[a + 2] + wb * points3d[b + 2] + wc * points3d[c + 2];
        const at = py * width + px;
        if (z < depth[at]) depth[at] = z;
      },
    );
  }
  const tolerance = DEPTH_TOLERANCE_FRACTION * Math.max(maxX - minX, maxY - minY);
  return { x0, y0, width, height, depth, tolerance };
}

function isOccluded(buffer: DepthBuffer, x: number, y: number, z: number): boolean {
  const px = Math.floor(x) - buffer.x0;
  const py = Math.floor(y) - buffer.y0;
  if (px < 0 || py < 0 || px >= buffer.width || py >= buffer.height) return false;
  return z > buffer.depth[py * buffer.width + px] + buffer.tolerance;
}

/**
 * @param image the photo.
 * @param points2d the 468 FaceMesh landmarks in photo pixels, x0, y0, x1, ...
 * @param size texture side in texels.
 * @param points3d optional 468 x (x, y, z) landmarks: x, y as in points2d, z in the same units with
 *   MediaPipe's sign (smaller is closer to the camera). When given, triangles facing away from the camera and texels hidden behind nearer parts of the
 *   face (the nose on a turned head) are left out of the mask.
 */
export function warpToUv(image: RgbImage, points2d: Float32Array, size = 128, points3d?: Float32Array): UvTexture {
  checkLength('points2d', points2d, 2);
  if (points3d) checkLength('points3d', points3d, 3);
  if (!Number.isInteger(size) || size < 1) throw new Face3dError('BAD_USER_INPUT', `bad texture size ${size}`);

  const triangles = FACEMESH_TRIANGLES.length / 3;
  const front = new Uint8Array(triangles).fill(1);
  if (points3d) {
    for (let t = 0; t < triangles; t++) {
      front[t] = facesCamera(points3d, FACEMESH_TRIANGLES[3 * t], FACEMESH_TRIANGLES[3 * t + 1], FACEMESH_TRIANGLES[3 * t + 2]) ? 1 : 0;
    }
  }
  const depthBuffer = points3d ? buildDepthBuffer(image, points3d, front) : undefined;

  const texture = new Uint8Array(size * size * 3);
  const mask = new Uint8Array(size * size);
  const colour = new Float32Array(3);
  for (let t = 0; t < triangles; t++) {
    if (!front[t]) continue;
    const a = FACEMESH_TRIANGLES[3 * t];
    const b = FACEMESH_TRIANGLES[3 * t + 1];
    const c = FACEMESH_TRIANGLES[3 * t + 2];
    rasterizeTriangle(
      FACEMESH_UVS[2 * a] * size, FACEMESH_UVS[2 * a + 1] * size,
      FACEMESH_UVS[2 * b] * size, FACEMESH_UVS[2 * b + 1] * size,
      FACEMESH_UVS[2 * c] * size, FACEMESH_UVS[2 * c + 1] * size,
      size, size,
      (tx, ty, wa, wb, wc) => {
        const x = wa * points2d[2 * a] + wb * points2d[2 * b] + wc * points2d[2 * c];
        const y = wa * points2d[2 * a + 1] + wb * points2d[2 * b + 1] + wc * points2d[2 * c + 1];
        if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
        if (depthBuffer && points3d) {
          const z = wa * points3d[3 * a + 2] + wb * points3d[3 * b + 2] + wc * points3d[3 * c + 2];
          if (isOccluded(depthBuffer, x, y, z)) return;
        }
        sampleBilinear(image, x, y, colour);
        const texel = ty * size + tx;
        texture[3 * texel] = Math.round(colour[0]);
        texture[3 * texel + 1] = Math.round(colour[1]);
        texture[3 * texel + 2] = Math.round(colour[2]);
        mask[texel] = 1;
      },
    );
  }
  return { size, texture, mask };
}
