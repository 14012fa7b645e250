/**
 * Faces of known depth photographed under known light, to tune and test shading refinement
 * (`src/morphable/shading-refine.ts`) without touching real depth: our model's mean face with a
 * depth deviation of real size, posed near-frontally in a Yale-B-sized crop, Loop-subdivided twice so
 * its shading is smooth (the fit sees a 468-vertex faceted surface; the photo should not be one),
 * Lambertian with a skin albedo that varies, darker brows, lips and eye openings, lit by one distant
 * light with ambient (as Yale B's photos are) or by a random order-2 spherical-harmonic light, with
 * pixel noise, and its landmarks jittered as a landmark detector's are.
 */
import type { RgbImage } from '../../src/core/image.js';
import { defaultBundleDir } from '../../src/inference/face-encoder.js';
import { loadBundle, neutralShape } from '../../src/morphable/bundle.js';
import { computeVertexNormals } from '../../src/mesh/mesh.js';
import { rasterizeTriangle } from '../../src/mesh/raster.js';
import { subdivide } from '../../src/mesh/subdivide.js';
import { FACEMESH_TRIANGLES } from '../../src/morphable/facemesh-topology.js';
import { eulerToRotation } from '../../src/morphable/procrustes.js';
import { FEATURE_VERTICES } from '../../src/morphable/shading-refine.js';
import { grayIntensity, shadingBasis, type IntensityImage } from '../../src/morphable/shading-depth.js';
import { randomNormal, type Random } from '../../src/training/random.js';

export const CROP_WIDTH = 168;
export const CROP_HEIGHT = 192;
export const CROP_PX_PER_MM = 1.47;

export type SyntheticLight = 'point' | 'harmonic';

export interface SyntheticPhotoOptions {
  readonly light: SyntheticLight;
  /** Landmark jitter, pixels (standard deviation). */
  readonly landmarkNoisePx: number;
  /** Pixel noise, in units of the skin's brightness facing the light. */
  readonly pixelNoise: number;
  /** Skin albedo's relative variation from vertex to vertex. */
  readonly albedoNoise: number;
  /**
   * The person's own skin: per vertex, the relative variation (standard normal, times `albedoNoise`),
   * the same in all their photos (`personAlbedo`); without it every photo draws its own.
   */
  readonly albedo?: Float64Array;
  /** One light for the photo (`randomLight`) instead of a new draw of `light`: photos lit alike share one. */
  readonly lighting?: SyntheticLighting;
}

/** Light reaching a surface of unit normal (nx, ny, nz), camera frame. */
export type SyntheticLighting = (nx: number, ny: number, nz: number) => number;

/** A person's skin, per vertex, for `SyntheticPhotoOptions.albedo`: the same in every photo of them, as real skin is. */
export function personAlbedo(vertices: number, random: Random): Float64Array {
  return Float64Array.from({ length: vertices }, () => randomNormal(random));
}

export interface SyntheticPhoto {
  readonly image: IntensityImage;
  /** The same photo as 8-bit RGB, as a camera would store it. */
  readonly rgb: RgbImage;
  /** The landmarks a detector would report: flat (x, y, z) pixels, y down (z unused). */
  readonly landmarks: Float32Array;
}

/** A face of `mean`'s topology whose depth (model z) departs from the mean by `deviation` (per vertex, mm). */
export function faceWithDepth(mean: ArrayLike<number>, deviation: ArrayLike<number>): Float32Array {
  return Float32Array.from(mean, (v, c) => (c % 3 === 2 ? v + deviation[(c - 2) / 3] : v));
}

/** A smooth random depth deviation of `rmsMm` RMS: random combination of the given modes' z (rows of `basis`, 3n each). */
export function randomDepthDeviation(basis: { rows: number; cols: number; data: ArrayLike<number> }, rmsMm: number, random: Random): Float64Array {
  const n = basis.cols / 3;
  const out = new Float64Array(n);
  for (let j = 0; j < basis.rows; j++) {
    const w = randomNormal(random);
    for (let i = 0; i < n; i++) out[i] += w * basis.data[j * basis.cols + 3 * i + 2];
  }
  const mean = out.reduce((s, v) => s + v, 0) / n;
  const rms = Math.sqrt(out.reduce((s, v) => s + (v - mean) ** 2, 0) / n) || 1;
  return out.map((v) => ((v - mean) * rmsMm) / rms);
}

/** A random light of `kind`: one distant point light with ambient in Yale B's range of directions, or an order-2 spherical-harmonic one. */
export function randomLight(kind: SyntheticLight, random: Random): SyntheticLighting {
  if (kind === 'point') {
    // Yale B's range: azimuth within ±60°, elevation within ±45°; some ambient.
    const azimuth = ((random() * 2 - 1) * 60 * Math.PI) / 180;
    const elevation = ((random() * 2 - 1) * 45 * Math.PI) / 180;
    const s = [Math.sin(azimuth) * Math.cos(elevation), Math.sin(elevation), Math.cos(azimuth) * Math.cos(elevation)];
    const ambient = 0.05 + 0.15 * random();
    return (nx, ny, nz) => ambient + Math.max(0, nx * s[0] + ny * s[1] + nz * s[2]);
  }
  const k = [0.6, 0.3 * randomNormal(random), 0.3 * randomNormal(random), 0.4 + 0.1 * randomNormal(random), ...Array.from({ length: 5 }, () => 0.08 * randomNormal(random))];
  return (nx, ny, nz) => Math.max(0, shadingBasis(nx, ny, nz, 2).reduce((sum, b, i) => sum + b * k[i], 0));
}

/** `shape` (model frame, mm) photographed in a crop: near-frontal pose, one light, albedo and noise as `options` say. */
export function photographShaded(shape: Float32Array, options: SyntheticPhotoOptions, random: Random): SyntheticPhoto {
  const rotation = eulerToRotation({ yaw: 6 * randomNormal(random), pitch: 5 + 5 * randomNormal(random), roll: 2 * randomNormal(random) });
  const n = shape.length / 3;
  // Posed in the camera frame (x right, y up, z towards the camera) in pixels, centred in the crop.
  const posed = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 3; r++) posed[3 * i + r] = CROP_PX_PER_MM * (rotation[3 * r] * shape[3 * i] + rotation[3 * r + 1] * shape[3 * i + 1] + rotation[3 * r + 2] * shape[3 * i + 2]);
  }
  const albedo = Uint8Array.from({ length: 3 * n }, (_, c) => {
    const i = Math.floor(c / 3);
    const skin = 0.8 * (1 + options.albedoNoise * (options.albedo ? options.albedo[i] : randomNormal(random)));
    return Math.round(255 * Math.min(1, Math.max(0, FEATURE_VERTICES[i] ? 0.45 * skin : skin)));
  });
  const dense = subdivide({ positions: posed, indices: FACEMESH_TRIANGLES, colors: albedo }, 2);
  const normals = computeVertexNormals(dense);
  const light = options.lighting ?? randomLight(options.light, random);
  const [cx, cy] = [CROP_WIDTH / 2, CROP_HEIGHT * 0.55];
  const toImage = (v: number): [number, number] => [cx + dense.positions[3 * v], cy - dense.positions[3 * v + 1]];
  const data = new Float32Array(CROP_WIDTH * CROP_HEIGHT);
  const zBuffer = new Float32Array(CROP_WIDTH * CROP_HEIGHT).fill(-Infinity);
  const { indices, colors } = dense;
  for (let t = 0; t < indices.length; t += 3) {
    const [a, b, c] = [indices[t], indices[t + 1], indices[t + 2]];
    const [pa, pb, pc] = [toImage(a), toImage(b), toImage(c)];
    rasterizeTriangle(pa[0], pa[1], pb[0], pb[1], pc[0], pc[1], CROP_WIDTH, CROP_HEIGHT, (px, py, wa, wb, wc) => {
      const at = py * CROP_WIDTH + px;
      const depth = wa * dense.positions[3 * a + 2] + wb * dense.positions[3 * b + 2] + wc * dense.positions[3 * c + 2];
      if (depth <= zBuffer[at]) return;
      zBuffer[at] = depth;
      const normal = [0, 1, 2].map((k) => wa * normals[3 * a + k] + wb * normals[3 * b + k] + wc * normals[3 * c + k]);
      const length = Math.hypot(...normal);
      const rho = (wa * colors![3 * a] + wb * colors![3 * b] + wc * colors![3 * c]) / 255;
      data[at] = rho * light(normal[0] / length, normal[1] / length, normal[2] / length);
    });
  }
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, data[i] + options.pixelNoise * randomNormal(random));
  const landmarks = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    landmarks[3 * i] = cx + posed[3 * i] + options.landmarkNoisePx * randomNormal(random);
    landmarks[3 * i + 1] = cy - posed[3 * i + 1] + options.landmarkNoisePx * randomNormal(random);
    landmarks[3 * i + 2] = -posed[3 * i + 2];
  }
  const rgb = Uint8Array.from({ length: 3 * data.length }, (_, c) => Math.round(255 * Math.min(1, data[Math.floor(c / 3)])));
  return { image: grayIntensity({ width: CROP_WIDTH, height: CROP_HEIGHT, data }), rgb: { width: CROP_WIDTH, height: CROP_HEIGHT, data: rgb }, landmarks };
}

/** A synthetic person: their depth's deviation from the mean face (per vertex, mm) and their photos. */
export interface SyntheticPerson {
  readonly deviation: Float64Array;
  readonly photos: SyntheticPhoto[];
}

/** How many synthetic people, of what depth, with how many photos; `ownSkin` and `sameLight` as `syntheticPeople` says. */
export interface SyntheticPeopleShape {
  readonly count: number;
  readonly photos: number;
  readonly rmsMm: number;
  readonly ownSkin: boolean;
  readonly sameLight?: boolean;
}

/**
 * `count` people of `mean`'s topology, each with a random depth deviation of `rmsMm` (from `basis`,
 * as `randomDepthDeviation`) and `photos` photos (`photographShaded`); `ownSkin`: one skin per person
 * in all their photos (`personAlbedo`), else every photo draws its own; `sameLight`: one light per
 * person in all their photos (everyday photos lit alike), else every photo draws its own.
 */
export function syntheticPeople(mean: Float32Array, basis: { rows: number; cols: number; data: ArrayLike<number> }, shape: SyntheticPeopleShape, options: SyntheticPhotoOptions, random: Random): SyntheticPerson[] {
  return Array.from({ length: shape.count }, () => {
    const deviation = randomDepthDeviation(basis, shape.rmsMm, random);
    const face = faceWithDepth(mean, deviation);
    const albedo = shape.ownSkin ? personAlbedo(mean.length / 3, random) : undefined;
    const lighting = shape.sameLight ? randomLight(options.light, random) : undefined;
    return { deviation, photos: Array.from({ length: shape.photos }, () => photographShaded(face, { ...options, albedo, lighting }, random)) };
  });
}

/** The bundle's mean face (its depth offset included): the template every fit starts from. */
export async function bundleMeanFace(): Promise<Float32Array> {
  const bundle = await loadBundle(defaultBundleDir());
  return neutralShape(bundle, new Float32Array(bundle.shape.basis.rows));
}

/** The bundle's mean face and `syntheticPeople` made from it and its shape modes. */
export async function meanFacePeople(shape: SyntheticPeopleShape, options: SyntheticPhotoOptions, random: Random): Promise<{ mean: Float32Array; people: SyntheticPerson[] }> {
  const bundle = await loadBundle(defaultBundleDir());
  const mean = neutralShape(bundle, new Float32Array(bundle.shape.basis.rows));
  return { mean, people: syntheticPeople(mean, bundle.shape.basis, shape, options, random) };
}
