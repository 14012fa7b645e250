/**
 * A FaceMesh neutral shape refined by the shading of the face's own photos (`shading-depth.ts`):
 * per photo the shape is posed on the photo's landmarks by a scaled orthographic camera, its depth
 * refined in the photo's pixels, and the change carried back into the model frame along the
 * camera's viewing direction (so the posed x, y do not move). A person's refinement is the mean of
 * their photos' changes, as a person's 3DMM is the pool of their photos'.
 */
import type { RgbImage } from '../core/image.js';
import { FACEMESH_REGIONS, FACEMESH_TRIANGLES } from './facemesh-topology.js';
import { orthographicPose } from './landmark-fit.js';
import { mirrorShape } from './symmetry.js';
import { channelMeanIntensity, fitLighting, litTriangles, shadingDepth, triangleNormal, type IntensityImage, type ShadingDepthOptions } from './shading-depth.js';
import { DEFAULT_JOINT_OPTIONS, jointShadingDepth, lightDirection, lightingDiverseOrder, type JointShadingOptions } from './shading-joint.js';

/** One photo of the face: its pixels as intensities, and its FaceMesh landmarks (flat x, y, z pixels, y down). */
export interface ShadingPhoto {
  readonly image: IntensityImage;
  readonly landmarks: ArrayLike<number>;
}

/** Vertices of the eye openings, brows and lips: their albedo is not skin's. */
export const FEATURE_VERTICES: Uint8Array = (() => {
  const mask = new Uint8Array(FACEMESH_TRIANGLES.reduce((m, v) => Math.max(m, v), 0) + 1);
  const features = Object.entries(FACEMESH_REGIONS).filter(([name]) => /Eye(Upper|Lower)0|brow|lips/i.test(name));
  for (const [, chain] of features) for (const v of chain) mask[v] = 1;
  return mask;
})();

/** An 8-bit RGB photo read as intensities 0–1: the mean of the channels, as the camera stored them (no copy of the pixels). */
export function photoIntensity(image: RgbImage): IntensityImage {
  return channelMeanIntensity(image, 3, 1 / 255);
}

/** The shape posed on the landmarks: image x, y (the landmarks'), depth in pixels, and the model-frame direction and scale of that depth. */
export function poseOnLandmarks(shape: ArrayLike<number>, landmarks: ArrayLike<number>): { points: Float64Array; depth: Float64Array; view: [number, number, number]; scale: number } {
  const n = shape.length / 3;
  const target = Float64Array.from({ length: 2 * n }, (_, c) => (c % 2 === 0 ? landmarks[3 * (c >> 1)] : -landmarks[3 * (c >> 1) + 1]));
  for (let axis = 0; axis < 2; axis++) {
    let centre = 0;
    for (let i = 0; i < n; i++) centre += target[2 * i + axis] / n;
    for (let i = 0; i < n; i++) target[2 * i + axis] -= centre;
  }
  // Image x right and y up, and the third row towards the viewer: a right-handed camera frame.
  const { rotation, scale } = orthographicPose(Float64Array.from(shape), target);
  const view: [number, number, number] = [rotation[6], rotation[7], rotation[8]];
  const depth = Float64Array.from({ length: n }, (_, i) => scale * (view[0] * shape[3 * i] + view[1] * shape[3 * i + 1] + view[2] * shape[3 * i + 2]));
  const points = Float64Array.from({ length: 2 * n }, (_, c) => landmarks[3 * (c >> 1) + (c % 2)]);
  return { points, depth, view, scale };
}

/** The change (model frame, the shape's units) that one photo's shading asks of `shape`. */
export function shadingChange(shape: ArrayLike<number>, photo: ShadingPhoto, options: ShadingDepthOptions = {}): Float64Array {
  const posed = poseOnLandmarks(shape, photo.landmarks);
  const refined = shadingDepth({ points: posed.points, depth: posed.depth, triangles: FACEMESH_TRIANGLES, image: photo.image, featureVertices: FEATURE_VERTICES }, options);
  return Float64Array.from(shape, (_, c) => ((refined.depth[Math.floor(c / 3)] - posed.depth[Math.floor(c / 3)]) / posed.scale) * posed.view[c % 3]);
}

/** How a person's photos' changes are pooled, beside each photo's fit (`ShadingDepthOptions`). */
export interface ShadingRefineOptions extends ShadingDepthOptions {
  /**
   * Average the pooled change with its mirror image (left and right vertices swapped, x negated):
   * faces are close to mirror-symmetric, while a side light's errors are not. Default SYMMETRIC_POOLING.
   */
  readonly symmetric?: boolean;
}

/**
 * Off: better on synthetic renders, whose faces are symmetric by construction, but not adopted
 * (docs/BENCHMARKS.md §42: with weaker priors it did worse on Yale B's real depth).
 */
export const SYMMETRIC_POOLING = false;

/** The mean of per-photo changes (model frame), made mirror-symmetric unless asked not to. */
export function pooledShadingChange(changes: readonly ArrayLike<number>[], symmetric = SYMMETRIC_POOLING): Float64Array {
  const pooled = new Float64Array(changes[0].length);
  for (const change of changes) for (let c = 0; c < pooled.length; c++) pooled[c] += change[c] / changes.length;
  if (!symmetric) return pooled;
  const mirrored = mirrorShape(pooled);
  return pooled.map((v, c) => (v + mirrored[c]) / 2);
}

/** `shape` plus the pool of `changes` (the photos' `shadingChange`s; the shape itself when there are none). */
export function refinedByChanges(shape: Float32Array, changes: readonly ArrayLike<number>[], options: ShadingRefineOptions = {}): Float32Array {
  if (changes.length === 0) return Float32Array.from(shape);
  const change = pooledShadingChange(changes, options.symmetric);
  return Float32Array.from(shape, (v, c) => v + change[c]);
}

/** `shape` refined by the shading of its photos, pooled over them. */
export function shadingRefinedShape(shape: Float32Array, photos: readonly ShadingPhoto[], options: ShadingRefineOptions = {}): Float32Array {
  return refinedByChanges(shape, photos.map((photo) => shadingChange(shape, photo, options)), options);
}

/** The joint fit's settings, and how many of the photos it takes (`lightingDiverseOrder`). */
export interface JointRefineOptions extends JointShadingOptions {
  readonly photos?: number;
}

/** Photos the joint fit takes at most, in their lights' order (docs/BENCHMARKS.md §46: all that a download reads). */
export const JOINT_PHOTOS = 8;

/** The photos in the order `lightingDiverseOrder` takes them, each one's light read on `shape` posed on it. */
export function photosByLighting(shape: ArrayLike<number>, photos: readonly ShadingPhoto[], order: 1 | 2 = DEFAULT_JOINT_OPTIONS.order): number[] {
  const directions = photos.map((photo) => {
    const posed = poseOnLandmarks(shape, photo.landmarks);
    const { tris, lit, enough } = litTriangles({ points: posed.points, depth: posed.depth, triangles: FACEMESH_TRIANGLES, image: photo.image, featureVertices: FEATURE_VERTICES });
    return enough ? lightDirection(fitLighting(tris, tris.map((tri) => triangleNormal(tri, posed.depth).n), lit, order)) : ([0, 0, 0] as [number, number, number]);
  });
  return lightingDiverseOrder(directions);
}

/**
 * The change (model frame, the shape's units) that `photos`' shading asks of `shape`, fitted jointly
 * (`jointShadingDepth`): one change along the photos' mean viewing direction, so each photo's posed
 * x, y barely move, a light per photo and an albedo per triangle shared by all.
 */
export function jointShadingChange(shape: ArrayLike<number>, photos: readonly ShadingPhoto[], options: JointShadingOptions = {}): Float64Array {
  if (photos.length === 0) return new Float64Array(shape.length);
  const posed = photos.map((photo) => poseOnLandmarks(shape, photo.landmarks));
  const sum = posed.reduce((s, p) => s.map((v, k) => v + p.view[k]), [0, 0, 0]);
  const length = Math.hypot(...sum) || 1;
  const direction = sum.map((v) => v / length);
  const { change } = jointShadingDepth({
    photos: posed.map((p, k) => ({ points: p.points, depth: p.depth, depthPerUnit: p.scale * (p.view[0] * direction[0] + p.view[1] * direction[1] + p.view[2] * direction[2]), image: photos[k].image })),
    triangles: FACEMESH_TRIANGLES,
    featureVertices: FEATURE_VERTICES,
  }, options);
  return Float64Array.from(shape, (_, c) => change[Math.floor(c / 3)] * direction[c % 3]);
}

/**
 * `shape` with the depth a download serves (issue 14): refined by one joint fit of the shading of
 * up to `options.photos` of `photos`, taken in `photosByLighting`'s order (the first given first).
 */
export function jointRefinedShape(shape: Float32Array, photos: readonly ShadingPhoto[], options: JointRefineOptions = {}): Float32Array {
  if (photos.length === 0) return Float32Array.from(shape);
  const chosen = photosByLighting(shape, photos, options.order).slice(0, options.photos ?? JOINT_PHOTOS).map((k) => photos[k]);
  const change = jointShadingChange(shape, chosen, options);
  return Float32Array.from(shape, (v, c) => v + change[c]);
}

/**
 * How a download's depth is made from the face's photos: the mean of each photo's own refinement
 * (`shadingRefinedShape`), or one joint fit of up to `photos` of them taken in their lights' order
 * (`jointRefinedShape`; docs/BENCHMARKS.md §46).
 */
export type DownloadDepthOptions = ({ readonly method: 'joint' } & JointRefineOptions) | ({ readonly method: 'mean' } & ShadingRefineOptions);

/**
 * What downloads serve: the per-photo mean. The joint fit is far nearer Yale B's real depth but
 * drops on everyday photos (CFP's full profiles), so it was not adopted (docs/BENCHMARKS.md §46).
 */
export const DOWNLOAD_DEPTH: DownloadDepthOptions = { method: 'mean' };

/** `shape` with the depth a download serves from `photos` (most frontal first), as `options` say. */
export function downloadedShape(shape: Float32Array, photos: readonly ShadingPhoto[], options: DownloadDepthOptions = DOWNLOAD_DEPTH): Float32Array {
  return options.method === 'joint' ? jointRefinedShape(shape, photos, options) : shadingRefinedShape(shape, photos, options);
}
