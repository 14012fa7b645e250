/**
 * One depth from several photos' shading at once (issue 14): uncalibrated photometric stereo with
 * the face as its prior. Every photo sees the same surface and the same skin under its own light,
 * so the fit shares one depth change (one number per vertex, along one direction of the model
 * frame) and one albedo per triangle across the photos, and gives each photo its own
 * spherical-harmonic light. Averaging photos refined one at a time (`shading-refine.ts`) cannot tell
 * a darker patch of skin from a surface turned away from the light; several lights can, which is
 * what photometric stereo rests on. So photos are chosen for how different their lights are
 * (`lightingDiverseOrder`), not only for how frontal they are.
 *
 * The albedo is pulled towards the skin's common value: with one photo, or photos under one light,
 * a free albedo would explain all the shading and leave the depth where it was; the pull lets the
 * fit read depth as the single-photo fit does, and different lights let it tell the two apart.
 *
 * Pure maths on plain arrays, beside `shading-depth.ts` whose triangles, shading and priors it uses.
 */
import {
  addDepthPriors,
  choleskySolve,
  DEFAULT_SHADING_OPTIONS,
  fitLighting,
  laplacianNormal,
  litTriangles,
  robustWeights,
  shadeWithGradient,
  triangleNormal,
  type IntensityImage,
  type ShadedTriangle,
  type ShadingDepthOptions,
} from './shading-depth.js';

/** One photo of the surface as the joint fit reads it. */
export interface JointShadingPhoto {
  /** Vertices in the photo: flat (x, y) pixels, y down. */
  readonly points: ArrayLike<number>;
  /** Each vertex's starting depth in this photo, pixels, larger nearer the camera. */
  readonly depth: ArrayLike<number>;
  /** Pixels of this photo's depth per unit of the shared change (scale × the cosine between the change's direction and the view). */
  readonly depthPerUnit: number;
  readonly image: IntensityImage;
}

export interface JointShadingInput {
  readonly photos: readonly JointShadingPhoto[];
  /** Three vertex indices per triangle (the same mesh in every photo). */
  readonly triangles: ArrayLike<number>;
  /** Per vertex, 1 where the skin's albedo is not skin's: triangles with all three such vertices are left out. */
  readonly featureVertices?: Uint8Array;
  /** Where the change starts and how it moves (`ChangeRule`); absent, every vertex moves on its own, held by the Laplacian and anchor priors. */
  readonly rule?: ChangeRule;
  /** When to give the fit up part way (`EarlyStop`). */
  readonly giveUp?: EarlyStop;
}

/**
 * A fit given up after its first `after` iterations when `when` says so of its residual there (a
 * caller that only needs to know whether the finished fit's residual could be low enough, and has a
 * floor on how far the later iterations lower it).
 */
export interface EarlyStop {
  readonly after: number;
  readonly when: (residual: number) => boolean;
}

/**
 * A caller's own rule for the shared change, in place of the free per-vertex step: the change the
 * fit starts from (one value per vertex, in units of the change) and each Gauss–Newton step, which
 * gets the change's system over the photos' observations (`h`, n × n, and `g`: its Hessian and
 * gradient) and one average observation's weight (the unit a prior is given in), and moves `change`
 * in place; false where the system cannot be solved, and the last good change stands. The tools
 * confine the change to a morphable model's identity space this way (tools/depth/change-space.ts).
 */
export interface ChangeRule {
  readonly start: ArrayLike<number>;
  step(h: Float64Array, g: Float64Array, observationWeight: number, change: Float64Array): boolean;
}

export interface JointShadingOptions extends ShadingDepthOptions {
  /**
   * Weight of the pull of each triangle's albedo towards 1 (the skin's median), in units of one
   * photo's observation of it: small lets several lights separate albedo from shape, large is one
   * skin albedo as the single-photo fit has.
   */
  readonly albedoPrior?: number;
  /**
   * Scale the priors and the albedo's pull with the number of photos fitted, so that data and prior
   * weigh as in one photo's fit: more photos then average their biases instead of outweighing the
   * face prior (off: more photos weigh more against it).
   */
  readonly perPhotoPriors?: boolean;
}

export interface JointShadingResult {
  /** The shared change of every vertex, in units of the change's direction (`depthPerUnit`). */
  readonly change: Float64Array;
  /** Each photo's lighting on `shadingBasis`; zeros for a photo that showed too little to use. */
  readonly lighting: readonly Float64Array[];
  /** Per mesh triangle, its albedo relative to the skin's (1 where no photo saw it). */
  readonly albedo: Float64Array;
  /** Photos the shading constrained. */
  readonly photos: number;
  /**
   * How far the fitted model (one surface, one albedo, a Lambertian light per photo) is from the
   * photos' shading: the RMS of albedo × shade − intensity over the lit triangles of every photo,
   * weighted by their area, in units of the skin's median intensity (0 when no photo was usable).
   */
  readonly residual: number;
  /** True when `giveUp` stopped the fit: `change` and `residual` are then those of its first iterations. */
  readonly stopped: boolean;
}

/**
 * Chosen on synthetic renders only (docs/BENCHMARKS.md §46): the single-photo fit's order,
 * iterations and robustness; priors and the albedo's pull from a grid there.
 */
export const DEFAULT_JOINT_OPTIONS: Required<JointShadingOptions> = { ...DEFAULT_SHADING_OPTIONS, smoothness: 0.003, anchor: 0.0003, albedoPrior: 0.3, perPhotoPriors: false };

interface PhotoTriangles {
  readonly photo: JointShadingPhoto;
  readonly tris: ShadedTriangle[];
  readonly lit: Float64Array;
  weights: Float64Array;
  lighting: Float64Array;
}

/** Each photo's depth at the shared change `change`. */
function photoDepth(photo: JointShadingPhoto, change: Float64Array): Float64Array {
  return Float64Array.from(change, (v, i) => photo.depth[i] + photo.depthPerUnit * v);
}

/** The change shared by all photos that explains their shading best, with a light per photo and an albedo per triangle. */
export function jointShadingDepth(input: JointShadingInput, options: JointShadingOptions = {}): JointShadingResult {
  const { order, smoothness, anchor, iterations, robustness, albedoPrior, perPhotoPriors } = { ...DEFAULT_JOINT_OPTIONS, ...options };
  const terms = order === 1 ? 4 : 9;
  const n = input.photos[0]?.depth.length ?? 0;
  const triangleCount = input.triangles.length / 3;
  const { rule } = input;
  if (rule && rule.start.length !== n) throw new RangeError(`jointShadingDepth: a change rule starting from ${rule.start.length} values for ${n} vertices`);
  const change = rule ? Float64Array.from(rule.start) : new Float64Array(n);
  const albedo = new Float64Array(triangleCount).fill(1);
  const views: PhotoTriangles[] = [];
  for (const photo of input.photos) {
    if (photo.points.length !== 2 * n || photo.depth.length !== n) throw new RangeError(`jointShadingDepth: a photo of ${photo.points.length / 2} points and ${photo.depth.length} depths for ${n} vertices`);
    const { tris, lit, enough } = litTriangles({ points: photo.points, depth: photo.depth, triangles: input.triangles, image: photo.image, featureVertices: input.featureVertices });
    if (enough && photo.depthPerUnit > 0) views.push({ photo, tris, lit, weights: Float64Array.from(lit), lighting: new Float64Array(terms) });
  }
  const lightingOf = (photo: JointShadingPhoto) => views.find((view) => view.photo === photo)?.lighting ?? new Float64Array(terms);
  if (views.length === 0) return { change, lighting: input.photos.map(lightingOf), albedo, photos: 0, residual: 0, stopped: false };
  const prior = laplacianNormal(input.triangles, n);
  const meanPerUnit = views.reduce((s, v) => s + v.photo.depthPerUnit, 0) / views.length;
  const priorScale = perPhotoPriors ? views.length : 1;

  const shadeOf = (view: PhotoTriangles, depth: Float64Array) => view.tris.map((tri) => shadeWithGradient(tri, depth, view.lighting, order).shade);
  for (let iteration = 0; iteration < iterations; iteration++) {
    const depths = views.map((view) => photoDepth(view.photo, change));
    for (let pass = 0; pass < 2; pass++) {
      // Each photo's light on the current normals and albedo; then the albedo given the lights; then robust weights.
      for (const [k, view] of views.entries()) {
        view.lighting = fitLighting(view.tris, view.tris.map((tri) => triangleNormal(tri, depths[k]).n), view.weights, order, view.tris.map((tri) => albedo[tri.index]));
      }
      updateAlbedo(views, views.map((view, k) => shadeOf(view, depths[k])), albedo, albedoPrior * priorScale);
      for (const [k, view] of views.entries()) {
        const shade = shadeOf(view, depths[k]);
        view.weights = robustWeights(view.tris.map((tri, t) => albedo[tri.index] * shade[t] - tri.intensity), view.lit, robustness);
      }
    }
    // Gauss–Newton on the shared change: every photo's residuals through its own depth per unit.
    const h = new Float64Array(n * n);
    const g = new Float64Array(n);
    let weightSum = 0;
    let observations = 0;
    for (const [k, view] of views.entries()) {
      const c = view.photo.depthPerUnit;
      view.tris.forEach((tri, t) => {
        const w = view.weights[t];
        observations++;
        if (!w) return;
        weightSum += w;
        const rho = albedo[tri.index];
        const { shade, jac } = shadeWithGradient(tri, depths[k], view.lighting, order);
        const r = rho * shade - tri.intensity;
        for (let a = 0; a < 3; a++) {
          const ja = rho * c * jac[a];
          g[tri.vertices[a]] += w * ja * r;
          for (let b = 0; b < 3; b++) h[tri.vertices[a] * n + tri.vertices[b]] += w * ja * rho * c * jac[b];
        }
      });
    }
    const observationWeight = (weightSum / observations || 1) * priorScale;
    if (rule) {
      if (!rule.step(h, g, observationWeight, change)) break;
    } else {
      // Priors on the change in pixels (as the single-photo fit's), in units of one average observation's weight.
      const unit = observationWeight * meanPerUnit * meanPerUnit;
      addDepthPriors(h, g, prior, change, smoothness * unit, anchor * unit);
      const step = choleskySolve(h, g.map((v) => -v), n);
      // The anchor makes the system positive definite; only non-finite input can break it, and then the last good change stands.
      if (!step) break;
      for (let i = 0; i < n; i++) change[i] += step[i];
    }
    if (input.giveUp && iteration + 1 === input.giveUp.after && iteration + 1 < iterations) {
      const residual = fitResidual(views, change, albedo, order);
      if (input.giveUp.when(residual)) return { change, lighting: input.photos.map(lightingOf), albedo, photos: views.length, residual, stopped: true };
    }
  }
  return { change, lighting: input.photos.map(lightingOf), albedo, photos: views.length, residual: fitResidual(views, change, albedo, order), stopped: false };
}

/** `JointShadingResult.residual` of `views` at `change`. */
function fitResidual(views: readonly PhotoTriangles[], change: Float64Array, albedo: Float64Array, order: 1 | 2): number {
  let squares = 0;
  let area = 0;
  for (const view of views) {
    const depth = photoDepth(view.photo, change);
    view.tris.forEach((tri, t) => {
      const r = albedo[tri.index] * shadeWithGradient(tri, depth, view.lighting, order).shade - tri.intensity;
      squares += view.lit[t] * r * r;
      area += view.lit[t];
    });
  }
  return area > 0 ? Math.sqrt(squares / area) : 0;
}

/** Per triangle, the albedo that best explains its intensities under every photo's shading, pulled towards 1. */
function updateAlbedo(views: readonly PhotoTriangles[], shades: readonly number[][], albedo: Float64Array, albedoPrior: number): void {
  const numerator = new Float64Array(albedo.length);
  const denominator = new Float64Array(albedo.length);
  const seen = new Uint16Array(albedo.length);
  views.forEach((view, k) => view.tris.forEach((tri, t) => {
    const w = view.weights[t];
    numerator[tri.index] += w * shades[k][t] * tri.intensity;
    denominator[tri.index] += w * shades[k][t] ** 2;
    seen[tri.index]++;
  }));
  for (let i = 0; i < albedo.length; i++) {
    if (seen[i] === 0) continue;
    // The pull is worth `albedoPrior` of the triangle's average observations, each of albedo 1.
    const prior = (albedoPrior * denominator[i]) / seen[i];
    albedo[i] = denominator[i] > 0 ? (numerator[i] + prior) / (denominator[i] + prior) : 1;
  }
}

/** A photo's light as a direction: the first-order terms (x, y, z) of its lighting, unit length (zero when it has none). */
export function lightDirection(lighting: ArrayLike<number>): [number, number, number] {
  const length = Math.hypot(lighting[1], lighting[2], lighting[3]);
  return length > 0 ? [lighting[1] / length, lighting[2] / length, lighting[3] / length] : [0, 0, 0];
}

/**
 * Photos in the order a photometric stereo should take them: the first given first (callers give
 * the most frontal first), then each time the one whose light direction adds the most to the
 * lights taken so far (greatest gain in det(Σ l lᵀ + εI), the lights' spread in every direction).
 */
export function lightingDiverseOrder(directions: readonly (readonly [number, number, number])[]): number[] {
  if (directions.length === 0) return [];
  const EPSILON = 0.05;
  const scatter = [EPSILON, 0, 0, 0, EPSILON, 0, 0, 0, EPSILON];
  const order: number[] = [];
  const remaining = new Set(directions.keys());
  const take = (k: number) => {
    order.push(k);
    remaining.delete(k);
    const l = directions[k];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) scatter[3 * r + c] += l[r] * l[c];
  };
  take(0);
  while (remaining.size > 0) {
    let best = -1;
    let bestGain = -Infinity;
    for (const k of remaining) {
      // det(S + l lᵀ) = det(S) (1 + lᵀ S⁻¹ l): the gain is lᵀ S⁻¹ l.
      const gain = quadraticInverse(scatter, directions[k]);
      if (gain > bestGain + 1e-12) [best, bestGain] = [k, gain];
    }
    take(best);
  }
  return order;
}

/** lᵀ S⁻¹ l for a symmetric positive-definite 3 × 3 S. */
function quadraticInverse(s: readonly number[], l: readonly number[]): number {
  const [a, b, c, , e, f, , , i] = s;
  const cof = [e * i - f * f, c * f - b * i, b * f - c * e, a * i - c * c, b * c - a * f, a * e - b * b];
  const det = a * cof[0] + b * cof[1] + c * cof[2];
  const [x, y, z] = l;
  return (cof[0] * x * x + cof[3] * y * y + cof[5] * z * z + 2 * (cof[1] * x * y + cof[2] * x * z + cof[4] * y * z)) / det;
}
