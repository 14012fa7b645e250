/** Small shaded surfaces for the shading fits' maths tests: a grid of vertices, flat-shaded as the fits' model says. */
import { rasterizeTriangle } from '../../src/mesh/raster.js';
import { grayIntensity, shadingBasis, type IntensityImage } from '../../src/morphable/shading-depth.js';

export interface GridSurface {
  readonly points: Float64Array;
  readonly depth: Float64Array;
  readonly triangles: Uint32Array;
}

/** A size × size grid of vertices `spacing` px apart from (10, 10), two triangles per cell. */
export function grid(size: number, spacing: number, depth: (x: number, y: number) => number): GridSurface {
  const points: number[] = [];
  const z: number[] = [];
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) {
    points.push(10 + spacing * c, 10 + spacing * r);
    z.push(depth(10 + spacing * c, 10 + spacing * r));
  }
  const triangles: number[] = [];
  for (let r = 0; r + 1 < size; r++) for (let c = 0; c + 1 < size; c++) {
    const v = size * r + c;
    triangles.push(v, v + size, v + 1, v + 1, v + size, v + size + 1);
  }
  return { points: Float64Array.from(points), depth: Float64Array.from(z), triangles: Uint32Array.from(triangles) };
}

/** Each triangle drawn with its own flat Lambertian shading under order-1 `light`, times its `albedo` (1 by default): the model the fits assume. */
export function renderFlat(surface: GridSurface, light: readonly number[], side: number, albedo: (triangle: number) => number = () => 1): IntensityImage {
  const data = new Float32Array(side * side);
  const { points, depth, triangles } = surface;
  for (let t = 0; t < triangles.length; t += 3) {
    const [a, b, c] = [triangles[t], triangles[t + 1], triangles[t + 2]];
    // Normal of the plane through the three vertices, in x right, y up, z towards the camera.
    const e1 = [points[2 * b] - points[2 * a], -(points[2 * b + 1] - points[2 * a + 1]), depth[b] - depth[a]];
    const e2 = [points[2 * c] - points[2 * a], -(points[2 * c + 1] - points[2 * a + 1]), depth[c] - depth[a]];
    let n = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
    n = n.map((v) => (v * Math.sign(n[2])) / Math.hypot(...n));
    const shade = albedo(t / 3) * shadingBasis(n[0], n[1], n[2], 1).reduce((s, v, i) => s + v * light[i], 0);
    rasterizeTriangle(points[2 * a], points[2 * a + 1], points[2 * b], points[2 * b + 1], points[2 * c], points[2 * c + 1], side, side, (x, y) => { data[y * side + x] = shade; });
  }
  return grayIntensity({ width: side, height: side, data });
}

/** RMS of a − b after the best constant is taken out (depth from shading has no absolute offset). */
export function rmsApart(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d = Array.from(a, (v, i) => v - b[i]);
  const m = d.reduce((s, v) => s + v, 0) / d.length;
  return Math.sqrt(d.reduce((s, v) => s + (v - m) ** 2, 0) / d.length);
}
