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
import { channelMeanIntensity, fitLighting, litTriangles, shadeWithGradient, shadingDepth, triangleNormal, type IntensityImage, type ShadingDepthOptions } from './shading-depth.js';
import { DEFAULT_JOINT_OPTIONS, jointShadingDepth, lightDirection, lightingDiverseOrder, type ChangeRule, type EarlyStop, type JointShadingOptions } from './shading-joint.js';

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

/** The joint fit's settings, how many of the photos it takes (`lightingDiverseOrder`), and where its change may go. */
export interface JointRefineOptions extends JointShadingOptions {
  readonly photos?: number;
  /**
   * A rule for the change (`ChangeRule`), made for each fit from how many of the change's units one
   * unit of model-frame depth (z, the shape's units) is: the tools' change confined to scans'
   * identity space (tools/depth/change-space.ts, docs/BENCHMARKS.md §58). A gated download still
   * decides by the free fit.
   */
  readonly rule?: (changePerDepth: number) => ChangeRule;
}

/** Photos the joint fit takes at most, in their lights' order (docs/BENCHMARKS.md §46: all that a download reads). */
export const JOINT_PHOTOS = 8;

/**
 * A photo's light (`shadingBasis` terms) read on a shape posed on it, by least squares over its lit
 * triangles with the skin's albedo everywhere; and how far that light on the unrefined shape is from
 * the photo's shading: the lit-area-weighted sum of squared residuals and the weights' sum (the
 * joint fit's `residual` before it moves the surface or the albedo).
 */
export interface PhotoLighting {
  readonly lighting: Float64Array;
  readonly squares: number;
  readonly weight: number;
}

/** Each photo's `PhotoLighting` on `shape` posed on it; undefined for a photo that shows too little of the face. */
export function photoLightings(shape: ArrayLike<number>, photos: readonly ShadingPhoto[], order: 1 | 2 = DEFAULT_JOINT_OPTIONS.order): (PhotoLighting | undefined)[] {
  return photos.map((photo) => {
    const posed = poseOnLandmarks(shape, photo.landmarks);
    const { tris, lit, enough } = litTriangles({ points: posed.points, depth: posed.depth, triangles: FACEMESH_TRIANGLES, image: photo.image, featureVertices: FEATURE_VERTICES });
    if (!enough) return undefined;
    const lighting = fitLighting(tris, tris.map((tri) => triangleNormal(tri, posed.depth).n), lit, order);
    let squares = 0;
    let weight = 0;
    tris.forEach((tri, t) => {
      squares += lit[t] * (shadeWithGradient(tri, posed.depth, lighting, order).shade - tri.intensity) ** 2;
      weight += lit[t];
    });
    return { lighting, squares, weight };
  });
}

/** The photos' indices in the order `lightingDiverseOrder` takes them, from their lights (`photoLightings`). */
export function lightingOrder(lightings: readonly (PhotoLighting | undefined)[]): number[] {
  return lightingDiverseOrder(lightings.map((light) => (light ? lightDirection(light.lighting) : [0, 0, 0])));
}

/** The photos in the order `lightingDiverseOrder` takes them, each one's light read on `shape` posed on it. */
export function photosByLighting(shape: ArrayLike<number>, photos: readonly ShadingPhoto[], order: 1 | 2 = DEFAULT_JOINT_OPTIONS.order): number[] {
  return lightingOrder(photoLightings(shape, photos, order));
}

/** `lightingSpread` from the photos' order-1 lights (`photoLightings(…, 1)`). */
export function spreadOfLightings(lightings: readonly (PhotoLighting | undefined)[]): number {
  const lights = lightings.filter((k): k is PhotoLighting => k !== undefined).map(({ lighting: k }) => [k[1], k[2], k[3]]);
  if (lights.length < 2) return 0;
  const mean = [0, 1, 2].map((a) => lights.reduce((s, l) => s + l[a], 0) / lights.length);
  return Math.sqrt(lights.reduce((s, l) => s + (l[0] - mean[0]) ** 2 + (l[1] - mean[1]) ** 2 + (l[2] - mean[2]) ** 2, 0) / lights.length);
}

/**
 * How differently `photos` are lit (issue 14's gate, docs/BENCHMARKS.md §50): each photo's
 * first-order light read on `shape` posed on it (in units of the skin's median intensity, so a
 * mostly ambient light is near zero), and the RMS distance of those vectors from their mean.
 * Photometric stereo needs lights from different directions: one point light moved between photos
 * spreads them; photos lit alike do not. 0 with fewer than two usable photos.
 */
export function lightingSpread(shape: ArrayLike<number>, photos: readonly ShadingPhoto[]): number {
  return spreadOfLightings(photoLightings(shape, photos, 1));
}

/** The RMS residual of the photos' lights on the unrefined shape (`PhotoLighting`), over the photos `chosen`; 0 when none was usable. */
export function unrefinedResidual(lightings: readonly (PhotoLighting | undefined)[], chosen: readonly number[]): number {
  const used = chosen.map((k) => lightings[k]).filter((k): k is PhotoLighting => k !== undefined);
  const weight = used.reduce((s, k) => s + k.weight, 0);
  return weight > 0 ? Math.sqrt(used.reduce((s, k) => s + k.squares, 0) / weight) : 0;
}

/**
 * The change (model frame, the shape's units) that `photos`' shading asks of `shape`, fitted jointly
 * (`jointShadingDepth`): one change along the photos' mean viewing direction, so each photo's posed
 * x, y barely move, a light per photo and an albedo per triangle shared by all; and the fit's
 * `residual` (`JointShadingResult`).
 */
export function jointShadingFit(shape: ArrayLike<number>, photos: readonly ShadingPhoto[], options: JointShadingOptions & Pick<JointRefineOptions, 'rule'> = {}, giveUp?: EarlyStop): { change: Float64Array; residual: number; stopped: boolean } {
  if (photos.length === 0) return { change: new Float64Array(shape.length), residual: 0, stopped: false };
  const posed = photos.map((photo) => poseOnLandmarks(shape, photo.landmarks));
  const sum = posed.reduce((s, p) => s.map((v, k) => v + p.view[k]), [0, 0, 0]);
  const length = Math.hypot(...sum) || 1;
  const direction = sum.map((v) => v / length);
  // The rule's depths (model z) in units of the change, which moves along `direction`.
  const rule = options.rule?.(1 / (direction[2] || 1));
  const { change, residual, stopped } = jointShadingDepth({
    photos: posed.map((p, k) => ({ points: p.points, depth: p.depth, depthPerUnit: p.scale * (p.view[0] * direction[0] + p.view[1] * direction[1] + p.view[2] * direction[2]), image: photos[k].image })),
    triangles: FACEMESH_TRIANGLES,
    featureVertices: FEATURE_VERTICES,
    rule,
    giveUp,
  }, options);
  return { change: Float64Array.from(shape, (_, c) => change[Math.floor(c / 3)] * direction[c % 3]), residual, stopped };
}

/** `jointShadingFit`'s change alone. */
export function jointShadingChange(shape: ArrayLike<number>, photos: readonly ShadingPhoto[], options: JointShadingOptions & Pick<JointRefineOptions, 'rule'> = {}): Float64Array {
  return jointShadingFit(shape, photos, options).change;
}

/**
 * `shape` refined by one joint fit of the shading of up to `options.photos` of `photos`, taken in
 * `photosByLighting`'s order (the first given first), and that fit's residual.
 */
export function jointRefinement(shape: Float32Array, photos: readonly ShadingPhoto[], options: JointRefineOptions = {}): { shape: Float32Array; residual: number } {
  if (photos.length === 0) return { shape: Float32Array.from(shape), residual: 0 };
  return jointRefinementOf(shape, photos, chosenPhotos(photosByLighting(shape, photos, options.order), options), options);
}

/** The first `options.photos` (default JOINT_PHOTOS) of `order`. */
function chosenPhotos(order: readonly number[], options: JointRefineOptions): number[] {
  return order.slice(0, options.photos ?? JOINT_PHOTOS);
}

/** `jointRefinement` of the photos `chosen` (indices into `photos`, in the order the fit takes them). */
function jointRefinementOf(shape: Float32Array, photos: readonly ShadingPhoto[], chosen: readonly number[], options: JointRefineOptions, giveUp?: EarlyStop): { shape: Float32Array; residual: number; stopped: boolean } {
  const { change, residual, stopped } = jointShadingFit(shape, chosen.map((k) => photos[k]), options, giveUp);
  return { shape: Float32Array.from(shape, (v, c) => v + change[c]), residual, stopped };
}

/**
 * How a download's depth is made from the face's photos: the mean of each photo's own refinement
 * (`shadingRefinedShape`), one joint fit of up to `photos` of them taken in their lights' order
 * (`jointRefinement`; docs/BENCHMARKS.md §46), or `gated`: the joint fit where the photos'
 * `lightingEvidence` reaches `evidence` (default JOINT_EVIDENCE), else the per-photo mean at its own
 * settings (`JointRefineOptions` are the joint fit's).
 */
export type DownloadDepthOptions =
  | ({ readonly method: 'joint' } & JointRefineOptions)
  | ({ readonly method: 'mean' } & ShadingRefineOptions)
  | ({ readonly method: 'gated'; readonly evidence?: number } & JointRefineOptions);

/**
 * Whether photometric stereo can be trusted on a person's photos: how much their lights differ
 * (`lightingSpread`) in units of how badly one Lambertian surface, one albedo and a light per photo
 * explain their shading (the joint fit's `residual`). Photos lit from different directions that the
 * model explains score high; photos lit alike, or whose shading is not Lambertian (everyday photos'
 * colour and ambient light, make-up, specular skin) score low. 0 where the residual is 0 (no usable photo).
 */
export function lightingEvidence(spread: number, residual: number): number {
  return residual > 0 ? spread / residual : 0;
}

/**
 * The least `lightingEvidence` at which a gated download is the joint fit: chosen on synthetic
 * renders and CFP's everyday photos, never on Yale B, so that 95% of CFP's dev people keep the
 * per-photo mean (docs/BENCHMARKS.md §50).
 */
export const JOINT_EVIDENCE = 6.31;

/**
 * What downloads serve: the gate. The joint fit alone is far nearer Yale B's real depth but drops on
 * everyday photos (CFP's full profiles; docs/BENCHMARKS.md §46); gated, it serves photos lit from
 * different directions and leaves everyday photos on the per-photo mean (§50).
 */
export const DOWNLOAD_DEPTH: DownloadDepthOptions = { method: 'gated' };

/**
 * A floor under the joint fit's residual as a share of the unrefined shape's (`unrefinedResidual`):
 * three quarters of the least share measured on any person (0.162; docs/BENCHMARKS.md §52: synthetic
 * renders lit varied and alike, CFP's 250 dev people, under §46's and §52's priors). Where even a
 * residual this small would leave the evidence under the threshold, the gate knows without the joint
 * fit that the person keeps the per-photo mean (photos lit alike); everyday photos whose lights differ
 * still need the fit's residual to tell.
 */
export const RESIDUAL_FLOOR = 0.12;

/** Iterations of the joint fit after which a gated download may give it up (`EARLY_FLOOR`). */
export const EARLY_ITERATIONS = 2;

/**
 * A floor under the joint fit's final residual as a share of its residual after EARLY_ITERATIONS:
 * three quarters of the least share measured on any person (0.796; docs/BENCHMARKS.md §58: synthetic
 * renders lit varied and alike, seeds 50 and 51, CFP's 250 dev people). Where even that would leave
 * the evidence under the threshold, the fit is given up there and the person keeps the per-photo
 * mean: everyday photos whose lights differ stop paying for the whole joint fit, with the same decision.
 */
export const EARLY_FLOOR = 0.59;

/** `shape` with the depth a download serves from `photos` (most frontal first), as `options` say, and which fit made it. */
export function downloadedDepth(shape: Float32Array, photos: readonly ShadingPhoto[], options: DownloadDepthOptions = DOWNLOAD_DEPTH): { shape: Float32Array; method: 'joint' | 'mean' } {
  if (options.method === 'mean') return { shape: shadingRefinedShape(shape, photos, options), method: 'mean' };
  if (options.method === 'joint') return { shape: jointRefinement(shape, photos, options).shape, method: 'joint' };
  const mean = () => ({ shape: shadingRefinedShape(shape, photos), method: 'mean' as const });
  if (photos.length === 0) return mean();
  // One reading of the photos' lights serves the spread, the lights' order (when the fit's order is 1, as by default) and the bound.
  const firstOrder = photoLightings(shape, photos, 1);
  const fitOrder = options.order ?? DEFAULT_JOINT_OPTIONS.order;
  const chosen = chosenPhotos(lightingOrder(fitOrder === 1 ? firstOrder : photoLightings(shape, photos, fitOrder)), options);
  const spread = spreadOfLightings(firstOrder);
  const threshold = options.evidence ?? JOINT_EVIDENCE;
  if (lightingEvidence(spread, RESIDUAL_FLOOR * unrefinedResidual(firstOrder, chosen)) < threshold) return mean();
  // The gate reads the free fit's residual (its threshold was chosen on it); a rule, if any, shapes what is served.
  const { rule, ...free } = options;
  // Given up after its first iterations where even the least residual the rest could reach leaves the evidence short.
  const giveUp = { after: EARLY_ITERATIONS, when: (residual: number) => lightingEvidence(spread, EARLY_FLOOR * residual) < threshold };
  const joint = jointRefinementOf(shape, photos, chosen, free, giveUp);
  if (joint.stopped || lightingEvidence(spread, joint.residual) < threshold) return mean();
  return { shape: rule ? jointRefinementOf(shape, photos, chosen, options).shape : joint.shape, method: 'joint' };
}

/** `downloadedDepth`'s shape: the one depth downloads, fidelity3d's "downloaded" and the CFP check all use. */
export function downloadedShape(shape: Float32Array, photos: readonly ShadingPhoto[], options: DownloadDepthOptions = DOWNLOAD_DEPTH): Float32Array {
  return downloadedDepth(shape, photos, options).shape;
}
