/**
 * Depth from a photo's shading (issue 14, idea 2c): analysis by synthesis with a Lambertian surface
 * under spherical-harmonic lighting. Landmarks give a face's x and y but not its depth; how bright
 * each part of the skin is does depend on its depth, through the surface's normal.
 *
 * The surface is the mesh posed on the photo (vertex x, y at the photo's landmarks, depth in pixels),
 * so each triangle is a plane whose normal is a function of its three vertices' depths. Each
 * triangle's mean intensity is explained as albedo × shading(normal), with one skin albedo (absorbed
 * into the lighting's scale) and the lighting a spherical-harmonic expansion of order 1 or 2 in the
 * normal. The fit alternates: lighting by weighted least squares on the current normals, robust
 * weights from the residuals (brows, eyes, nostrils, cast shadows and other albedo or light the model
 * does not have are outliers), then one Gauss–Newton step on the vertices' depths, regularised by a
 * Laplacian smoothness prior on the change and a small pull towards the starting depth.
 *
 * Pure maths on plain arrays: the caller poses the mesh and turns the photo into intensities.
 */
import { solveSymmetricPositiveDefinite } from '../core/linear-algebra.js';
import { sampleBilinearChannels, type PixelGrid } from '../mesh/raster.js';

/** Intensities (any linear scale), row-major; pixel (x, y) is centred at (x + 0.5, y + 0.5). */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** A photo as the fit reads it: its size, and its intensity at any point (bilinear, clamped to the border). */
export interface IntensityImage {
  readonly width: number;
  readonly height: number;
  intensity(x: number, y: number): number;
}

/** Pixels of `channels` interleaved channels read bilinearly as the mean of their channels times `scale`. */
export function channelMeanIntensity(image: PixelGrid, channels: number, scale = 1): IntensityImage {
  const sample = new Float32Array(channels);
  return {
    width: image.width,
    height: image.height,
    intensity: (x, y) => {
      sampleBilinearChannels(image, channels, x, y, sample);
      return (sample.reduce((sum, v) => sum + v, 0) * scale) / channels;
    },
  };
}

/** A one-channel image read bilinearly. */
export function grayIntensity(image: GrayImage): IntensityImage {
  return channelMeanIntensity(image, 1);
}

export interface ShadingDepthInput {
  /** Vertices in the photo: flat (x, y) pixels, y down. */
  readonly points: ArrayLike<number>;
  /** Each vertex's starting depth in pixels, larger is nearer the camera. */
  readonly depth: ArrayLike<number>;
  /** Three vertex indices per triangle. */
  readonly triangles: ArrayLike<number>;
  readonly image: IntensityImage;
  /** Per vertex, 1 where the skin's albedo is not skin's (brows, eye openings, lips): triangles with all three such vertices are left out. */
  readonly featureVertices?: Uint8Array;
}

export interface ShadingDepthOptions {
  /** Spherical-harmonic order of the lighting: 1 (4 terms) or 2 (9 terms). */
  readonly order?: 1 | 2;
  /** Weight of the Laplacian prior on the depth change (relative intensities² per pixel² of curvature). */
  readonly smoothness?: number;
  /** Weight of the pull of every vertex towards its starting depth. */
  readonly anchor?: number;
  /** Alternations of lighting, weights and one depth step. */
  readonly iterations?: number;
  /** Residuals beyond this many robust standard deviations weigh little (Cauchy weights). */
  readonly robustness?: number;
}

export interface ShadingDepthResult {
  /** The refined depth of every vertex (pixels); the starting depth when too few triangles could be used. */
  readonly depth: Float64Array;
  /** The lighting's coefficients on `shadingBasis`, for intensities relative to the face's median. */
  readonly lighting: Float64Array;
  /** Triangles the shading constrained. */
  readonly triangles: number;
  /** Weighted RMS of the relative intensity residuals before and after. */
  readonly residualBefore: number;
  readonly residualAfter: number;
}

/** Chosen on synthetic renders only (docs/BENCHMARKS.md §33); §42's weaker priors with symmetric pooling did worse on Yale B. */
export const DEFAULT_SHADING_OPTIONS: Required<ShadingDepthOptions> = { order: 1, smoothness: 0.01, anchor: 0.0003, iterations: 8, robustness: 2.5 };

/** Triangles seen this obliquely or worse (normal's z below this) are not used: their shading is mostly the silhouette's. */
const MIN_FACING = 0.3;
/** Triangles whose image area is below this (px²) have normals a landmark's jitter decides. */
const MIN_AREA = 1;
/** Triangles darker than this share of the face's median are in shadow, where Lambert's cosine is 0 and says nothing. */
const SHADOW = 0.12;
/** Fewer usable triangles than this (a face in profile, mostly outside the photo) say too little to fit a light and a shape: the depth is left as it is. */
const MIN_TRIANGLES = 40;
/** Barycentric points averaged for a triangle's intensity. */
const SAMPLES: readonly (readonly [number, number, number])[] = [
  [1 / 3, 1 / 3, 1 / 3],
  [2 / 3, 1 / 6, 1 / 6], [1 / 6, 2 / 3, 1 / 6], [1 / 6, 1 / 6, 2 / 3],
  [1 / 2, 1 / 2, 0], [0, 1 / 2, 1 / 2], [1 / 2, 0, 1 / 2],
];

/** The spherical-harmonic basis (unnormalised) of a unit normal (x right, y up, z towards the camera). */
export function shadingBasis(nx: number, ny: number, nz: number, order: 1 | 2): number[] {
  const first = [1, nx, ny, nz];
  return order === 1 ? first : [...first, nx * ny, nx * nz, ny * nz, nx * nx - ny * ny, 3 * nz * nz - 1];
}

/** d(basis · k)/d(nx, ny, nz). */
export function shadingGradient(k: Float64Array, nx: number, ny: number, nz: number, order: 1 | 2): [number, number, number] {
  const g: [number, number, number] = [k[1], k[2], k[3]];
  if (order === 2) {
    g[0] += k[4] * ny + k[5] * nz + 2 * k[7] * nx;
    g[1] += k[4] * nx + k[6] * nz - 2 * k[7] * ny;
    g[2] += k[5] * nx + k[6] * ny + 6 * k[8] * nz;
  }
  return g;
}

/** A triangle the shading can speak for: its vertices, how its depth gradient follows them, its intensity. */
export interface ShadedTriangle {
  /** Its index in the mesh's triangle list. */
  readonly index: number;
  readonly vertices: readonly [number, number, number];
  /** (p, q) = (dz/dx, dz/dy_image) = gp · z, gq · z over the three vertices' depths. */
  readonly gp: readonly [number, number, number];
  readonly gq: readonly [number, number, number];
  readonly area: number;
  intensity: number;
}

/** The triangles of `input` the photo can speak for (inside it, large enough, not all feature vertices), with their mean intensity. */
export function shadedTriangles(input: Omit<ShadingDepthInput, 'depth'>): ShadedTriangle[] {
  const { points, triangles, image, featureVertices } = input;
  const out: ShadedTriangle[] = [];
  for (let t = 0; t < triangles.length; t += 3) {
    const v: [number, number, number] = [triangles[t], triangles[t + 1], triangles[t + 2]];
    if (featureVertices && v.every((i) => featureVertices[i])) continue;
    const [ax, ay, bx, by, cx, cy] = [points[2 * v[0]], points[2 * v[0] + 1], points[2 * v[1]], points[2 * v[1] + 1], points[2 * v[2]], points[2 * v[2] + 1]];
    const [e1x, e1y, e2x, e2y] = [bx - ax, by - ay, cx - ax, cy - ay];
    const det = e1x * e2y - e2x * e1y;
    if (!(Math.abs(det) / 2 >= MIN_AREA)) continue;
    if (Math.min(ax, bx, cx) < 0 || Math.min(ay, by, cy) < 0 || Math.max(ax, bx, cx) > image.width || Math.max(ay, by, cy) > image.height) continue;
    // [e1; e2] (p, q)ᵀ = (z_b − z_a, z_c − z_a): p and q as weights on (z_a, z_b, z_c).
    const pb = e2y / det, pc = -e1y / det;
    const qb = -e2x / det, qc = e1x / det;
    const intensity = SAMPLES.reduce((sum, [wa, wb, wc]) => sum + image.intensity(wa * ax + wb * bx + wc * cx, wa * ay + wb * by + wc * cy), 0) / SAMPLES.length;
    out.push({ index: t / 3, vertices: v, gp: [-pb - pc, pb, pc], gq: [-qb - qc, qb, qc], area: Math.abs(det) / 2, intensity });
  }
  return out;
}

/** The unit normal (x right, y up, z towards the camera) of a triangle at depths z. */
export function triangleNormal(tri: ShadedTriangle, z: ArrayLike<number>): { n: [number, number, number]; p: number; q: number; length: number } {
  const [a, b, c] = tri.vertices;
  const p = tri.gp[0] * z[a] + tri.gp[1] * z[b] + tri.gp[2] * z[c];
  const q = tri.gq[0] * z[a] + tri.gq[1] * z[b] + tri.gq[2] * z[c];
  // Height z over the image, y down: the surface's normal is (−dz/dx, +dz/dy_image, 1) with y up.
  const length = Math.hypot(p, q, 1);
  return { n: [-p / length, q / length, 1 / length], p, q, length };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Weighted least squares of intensities on the shading basis, each triangle's basis times its
 * `albedo` (1 when none is given; a tiny ridge keeps order 2 defined when normals vary little).
 */
export function fitLighting(tris: readonly ShadedTriangle[], normals: readonly [number, number, number][], weights: Float64Array, order: 1 | 2, albedo?: ArrayLike<number>): Float64Array {
  const m = order === 1 ? 4 : 9;
  const a = new Float64Array(m * m);
  const b = new Float64Array(m);
  tris.forEach((tri, t) => {
    if (!weights[t]) return;
    const basis = shadingBasis(...normals[t], order).map((v) => v * (albedo ? albedo[t] : 1));
    for (let i = 0; i < m; i++) {
      b[i] += weights[t] * basis[i] * tri.intensity;
      const wb = weights[t] * basis[i];
      for (let j = 0; j <= i; j++) a[i * m + j] += wb * basis[j];
    }
  });
  const total = weights.reduce((s, w) => s + w, 0);
  for (let i = 0; i < m; i++) {
    a[i * m + i] += 1e-6 * total;
    for (let j = 0; j < i; j++) a[j * m + i] = a[i * m + j];
  }
  return solveSymmetricPositiveDefinite(a, { rows: m, cols: 1, data: b }).data;
}

/** Per vertex (of `n`), the vertices it shares a triangle's edge with. */
export function edgeNeighbours(triangles: ArrayLike<number>, n: number): Set<number>[] {
  const neighbours = Array.from({ length: n }, () => new Set<number>());
  for (let t = 0; t < triangles.length; t += 3) {
    for (let k = 0; k < 3; k++) {
      const [a, b] = [triangles[t + k], triangles[t + ((k + 1) % 3)]];
      neighbours[a].add(b);
      neighbours[b].add(a);
    }
  }
  return neighbours;
}

/** Σ_i ‖(L x)_i‖² as a dense matrix, L the uniform graph Laplacian of the triangles' edges over `n` vertices. */
export function laplacianNormal(triangles: ArrayLike<number>, n: number): Float64Array {
  const neighbours = edgeNeighbours(triangles, n);
  const out = new Float64Array(n * n);
  neighbours.forEach((set, i) => {
    if (set.size === 0) return;
    // Row i of L: 1 at i, −1/deg at each neighbour; LᵀL gains its outer product.
    const row = new Map<number, number>([[i, 1]]);
    for (const j of set) row.set(j, -1 / set.size);
    for (const [j, wj] of row) for (const [k, wk] of row) out[j * n + k] += wj * wk;
  });
  return out;
}

/**
 * x with H x = b for a symmetric positive-definite H (n × n, row-major; its lower triangle is read
 * and overwritten by the Cholesky factor), or undefined when H is not positive definite. Not
 * core/linear-algebra's ml-matrix solver: on nested arrays that takes about 100 ms at n = 468, the
 * bulk of a download's time; this one a few.
 */
export function choleskySolve(h: Float64Array, b: Float64Array, n: number): Float64Array | undefined {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let d = h[rowJ + j];
    for (let k = 0; k < j; k++) d -= h[rowJ + k] * h[rowJ + k];
    if (!(d > 0)) return undefined;
    d = Math.sqrt(d);
    h[rowJ + j] = d;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let sum = h[rowI + j];
      for (let k = 0; k < j; k++) sum -= h[rowI + k] * h[rowJ + k];
      h[rowI + j] = sum / d;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let sum = x[i];
    for (let k = 0; k < i; k++) sum -= h[i * n + k] * x[k];
    x[i] = sum / h[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = x[i];
    for (let k = i + 1; k < n; k++) sum -= h[k * n + i] * x[k];
    x[i] = sum / h[i * n + i];
  }
  return x;
}

/**
 * A photo's usable triangles at the starting depth, their intensities relative to the face's median,
 * and each one's vote before robust weighting (its area; 0 in shadow). Triangles must face the camera
 * at the start (the fit may not rescue a triangle the starting shape sees edge-on).
 */
export function litTriangles(input: ShadingDepthInput): { tris: ShadedTriangle[]; lit: Float64Array; enough: boolean } {
  const tris = shadedTriangles(input).filter((tri) => triangleNormal(tri, input.depth).n[2] >= MIN_FACING);
  if (tris.length < MIN_TRIANGLES) return { tris, lit: new Float64Array(tris.length), enough: false };
  const scale = median(tris.map((t) => t.intensity)) || 1;
  for (const tri of tris) tri.intensity /= scale;
  return { tris, lit: Float64Array.from(tris, (tri) => (tri.intensity >= SHADOW ? tri.area : 0)), enough: true };
}

/** A triangle's shading (basis · lighting) at depths z, and its derivative in each of its three vertices' depths. */
export function shadeWithGradient(tri: ShadedTriangle, z: ArrayLike<number>, lighting: Float64Array, order: 1 | 2): { shade: number; jac: [number, number, number] } {
  const { n: normal, p, q, length } = triangleNormal(tri, z);
  const shade = shadingBasis(...normal, order).reduce((s, b, i) => s + b * lighting[i], 0);
  const ds = shadingGradient(lighting, ...normal, order);
  // n = (−p, q, 1)/ℓ with ℓ = |(−p, q, 1)|, differentiated in p and q.
  const l3 = length ** 3;
  const dndp = [-(1 + q * q) / l3, -(q * p) / l3, -p / l3];
  const dndq = [(p * q) / l3, (1 + p * p) / l3, -q / l3];
  const drdp = ds[0] * dndp[0] + ds[1] * dndp[1] + ds[2] * dndp[2];
  const drdq = ds[0] * dndq[0] + ds[1] * dndq[1] + ds[2] * dndq[2];
  return { shade, jac: [0, 1, 2].map((k) => drdp * tri.gp[k] + drdq * tri.gq[k]) as [number, number, number] };
}

/** Robust (Cauchy) weights of residuals `r`: each triangle's vote `lit` shrunk by how far its residual is beyond `robustness` robust σ. */
export function robustWeights(r: readonly number[], lit: Float64Array, robustness: number): Float64Array<ArrayBuffer> {
  const sigma = 1.4826 * median(r.filter((_, t) => lit[t] > 0).map(Math.abs)) || 1e-6;
  return Float64Array.from(r, (v, t) => lit[t] / (1 + (v / (robustness * sigma)) ** 2));
}

/** Adds to the normal equations (H, g) the Laplacian prior (`prior`, weight `smoothness`) and the anchor (weight `anchor`) on `change`. */
export function addDepthPriors(h: Float64Array, g: Float64Array, prior: Float64Array, change: Float64Array, smoothness: number, anchor: number): void {
  const n = change.length;
  for (let i = 0; i < n; i++) {
    let lap = 0;
    for (let j = 0; j < n; j++) {
      const pij = prior[i * n + j];
      if (pij === 0) continue;
      h[i * n + j] += smoothness * pij;
      lap += pij * change[j];
    }
    h[i * n + i] += anchor;
    g[i] += smoothness * lap + anchor * change[i];
  }
}

/**
 * The depth that explains the photo's shading best, near the starting depth. Vertices no usable
 * triangle touches follow their neighbours through the smoothness prior.
 */
export function shadingDepth(input: ShadingDepthInput, options: ShadingDepthOptions = {}): ShadingDepthResult {
  const { order, smoothness, anchor, iterations, robustness } = { ...DEFAULT_SHADING_OPTIONS, ...options };
  const n = input.depth.length;
  if (input.points.length !== 2 * n) throw new RangeError(`shadingDepth: ${input.points.length / 2} points for ${n} depths`);
  const start = Float64Array.from(input.depth);
  const z = Float64Array.from(start);
  const { tris, lit, enough } = litTriangles(input);
  if (!enough) return { depth: z, lighting: new Float64Array(order === 1 ? 4 : 9), triangles: tris.length, residualBefore: NaN, residualAfter: NaN };
  const prior = laplacianNormal(input.triangles, n);

  let weights = Float64Array.from(lit);
  let lighting: Float64Array = new Float64Array(order === 1 ? 4 : 9);
  const residuals = (depth: Float64Array) => tris.map((tri) => {
    const { n: normal } = triangleNormal(tri, depth);
    return shadingBasis(...normal, order).reduce((s, b, i) => s + b * lighting[i], 0) - tri.intensity;
  });
  const weightedRms = (r: number[]) => Math.sqrt(r.reduce((s, v, t) => s + weights[t] * v * v, 0) / Math.max(weights.reduce((s, w) => s + w, 0), 1e-12));
  let residualBefore = NaN;
  for (let iteration = 0; iteration < iterations; iteration++) {
    // Lighting on the current normals, then robust weights from its residuals, refitted once.
    for (let pass = 0; pass < 2; pass++) {
      lighting = fitLighting(tris, tris.map((tri) => triangleNormal(tri, z).n), weights, order);
      weights = robustWeights(residuals(z), lit, robustness);
    }
    if (iteration === 0) residualBefore = weightedRms(residuals(z));
    // Gauss–Newton on z: H δ = −g, with the priors on (z − start).
    const h = new Float64Array(n * n);
    const g = new Float64Array(n);
    tris.forEach((tri, t) => {
      if (!weights[t]) return;
      const { shade, jac } = shadeWithGradient(tri, z, lighting, order);
      const r = shade - tri.intensity;
      for (let a = 0; a < 3; a++) {
        const va = tri.vertices[a];
        g[va] += weights[t] * jac[a] * r;
        for (let b = 0; b < 3; b++) h[va * n + tri.vertices[b]] += weights[t] * jac[a] * jac[b];
      }
    });
    // Priors in units of one average triangle's weight, so their strength does not depend on the face's size in pixels.
    const total = weights.reduce((s, w) => s + w, 0) / tris.length || 1;
    addDepthPriors(h, g, prior, Float64Array.from(z, (v, i) => v - start[i]), smoothness * total, anchor * total);
    const step = choleskySolve(h, g.map((v) => -v), n);
    // The anchor makes the system positive definite; only non-finite input can break it, and then the last good depth stands.
    if (!step) break;
    for (let i = 0; i < n; i++) z[i] += step[i];
  }
  return { depth: z, lighting, triangles: tris.length, residualBefore, residualAfter: weightedRms(residuals(z)) };
}
