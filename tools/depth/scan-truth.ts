/**
 * Synthetic people whose true shapes come from real scans (issue 14, docs/BENCHMARKS.md §52):
 * ICT-FaceKit's neutral face plus random identity modes, carried onto FaceMesh's 468 vertices, so a
 * fit that starts from our template (FaceMesh-derived geometry with its depth offset) meets the
 * bias real faces have against it, as on Yale B, instead of renders of the template itself whose
 * mean is the truth's mean by construction (`shading-synthetic.ts`'s people, on which §46 chose the
 * joint fit's settings).
 *
 * The carrying (`scanCorrespondence`): the scan's neutral face is put on the template by the
 * similarity that best matches their 51 inner markup points (brows, nose, eyes, mouth), its x, y
 * warped by a thin-plate spline so those points meet the template's; each template vertex then
 * takes the front-most scan triangle under it (its barycentric coordinates there), so the scan's
 * mean face has the template's x, y and the scans' own depth. A person is the same barycentric
 * points on their own scan shape; where no scan triangle faces the camera under a vertex (the
 * face's outline, beyond the scans' face area) the vertex moves as its neighbours do (a harmonic
 * fill), and is left out of every comparison (`ScanCorrespondence.valid`).
 *
 * ICT-FaceKit is someone else's data (MIT): read from its directory at run time, never copied.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FACEMESH_TRIANGLES } from '../../src/morphable/facemesh-topology.js';
import { facemeshToDlib68 } from '../../src/morphable/facemesh-dlib68.js';
import { loadIctFaceKit, type IctFaceModel } from '../../src/morphable/ict-facekit.js';
import { alignSimilarity, applySimilarity } from '../../src/morphable/procrustes.js';
import { edgeNeighbours } from '../../src/morphable/shading-depth.js';
import type { DownloadDepthOptions, JointRefineOptions } from '../../src/morphable/shading-refine.js';
import { removePlane } from '../../src/eval/depth-fidelity.js';
import { thinPlateOperator } from '../../src/morphable/thin-plate.js';
import { randomNormal, type Random } from '../../src/training/random.js';
import { personAlbedo, photographShaded, randomLight, type SyntheticPeopleShape, type SyntheticPerson, type SyntheticPhotoOptions } from './shading-synthetic.js';
import { spaceInDepth, type ChangeSpace } from './change-space.js';

/** The markup points that are the same skin on every face (the jaw line is a silhouette): 17–67; they place the scan. */
const INNER_MARKUP = Array.from({ length: 51 }, (_, k) => 17 + k);
/**
 * The points the warp makes meet: the inner ones and the chin's (jaw 6–10), without which the
 * template's chin runs past the scan's onto its neck.
 */
const WARP_MARKUP = [6, 7, 8, 9, 10, ...INNER_MARKUP];
/** Scan triangles turned further from the camera than this (normal's z: the face's sides, the nose's underside, as fidelity3d leaves out steps) carry no vertex. */
const MIN_FACING = 0.5;
/** The spline's smoothing, in units of the markup's RMS radius (`thinPlateOperator`): the points are met to well under a millimetre. */
const WARP_SMOOTHING = 0.001;
/** Sweeps of the harmonic fill: enough for 468 vertices to settle. */
const FILL_SWEEPS = 300;

/** A scan model with its whole face area: every vertex (mm) and its triangles. */
export interface ScanModel {
  readonly model: IctFaceModel;
  /** Three vertex indices per triangle (the kit's polygons split as fans). */
  readonly triangles: Uint32Array;
}

/** Each template vertex's place on the scan mesh, and the similarity that puts the scan on the template. */
export interface ScanCorrespondence {
  /** Per template vertex, the three scan vertices of its triangle (0s where not `valid`). */
  readonly corners: Uint32Array;
  /** Per template vertex, the barycentric weights on `corners`. */
  readonly weights: Float64Array;
  /** 1 where the vertex lies on a scan triangle facing the camera. */
  readonly valid: Uint8Array;
  /** Scan (mm, the kit's frame) to the template's frame. */
  readonly rotation: Float64Array;
  readonly scale: number;
  readonly translation: Float64Array;
}

/** ICT-FaceKit's whole face area (`dir`), its first `modes` identity modes. */
export async function loadScanModel(dir: string, modes?: number): Promise<ScanModel> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { vertices: number; faces: number[][] };
  const model = await loadIctFaceKit(dir, { vertices: Array.from({ length: json.vertices }, (_, v) => v), identityModes: modes });
  const triangles = json.faces.flatMap((face) => face.slice(2).flatMap((_, k) => [face[0], face[k + 1], face[k + 2]]));
  return { model, triangles: Uint32Array.from(triangles) };
}

/** `points` (markup indices) of a scan shape (all of the model's vertices), flat xyz. */
function scanMarkup(scan: ScanModel, positions: ArrayLike<number>, points: readonly number[]): Float64Array {
  return Float64Array.from({ length: 3 * points.length }, (_, c) => positions[3 * scan.model.landmarks68[points[Math.floor(c / 3)]] + (c % 3)]);
}

/** `points` (markup indices) of the template, flat xyz. */
function templateMarkup(template: ArrayLike<number>, points: readonly number[]): Float64Array {
  const all = facemeshToDlib68(Float64Array.from(template));
  return Float64Array.from({ length: 3 * points.length }, (_, c) => all[3 * points[Math.floor(c / 3)] + (c % 3)]);
}

/** Where each vertex of `template` (FaceMesh, model frame, mm) lies on the scan model's neutral face. */
export function scanCorrespondence(template: Float32Array, scan: ScanModel): ScanCorrespondence {
  const neutral = scan.model.identity.mean;
  const { rotation, scale, translation } = alignSimilarity(scanMarkup(scan, neutral, INNER_MARKUP), templateMarkup(template, INNER_MARKUP));
  const placed = applySimilarity(neutral, rotation, scale, translation);
  const target = templateMarkup(template, WARP_MARKUP);
  const placedMarkup = scanMarkup(scan, placed, WARP_MARKUP);
  const centres = Float64Array.from({ length: 2 * WARP_MARKUP.length }, (_, c) => placedMarkup[3 * (c >> 1) + (c % 2)]);
  const count = placed.length / 3;
  const queries = Float64Array.from({ length: 2 * count }, (_, c) => placed[3 * (c >> 1) + (c % 2)]);
  const spline = thinPlateOperator(centres, queries, WARP_SMOOTHING);
  const warped = Float64Array.from(queries);
  for (let i = 0; i < count; i++) {
    for (let axis = 0; axis < 2; axis++) {
      let shift = 0;
      for (let m = 0; m < WARP_MARKUP.length; m++) shift += spline.data[i * spline.cols + m] * (target[3 * m + axis] - placedMarkup[3 * m + axis]);
      warped[2 * i + axis] += shift;
    }
  }
  const n = template.length / 3;
  const corners = new Uint32Array(3 * n);
  const weights = new Float64Array(3 * n);
  const valid = new Uint8Array(n);
  const front = new Float64Array(n).fill(-Infinity);
  const t = scan.triangles;
  for (let k = 0; k < t.length; k += 3) {
    const [a, b, c] = [t[k], t[k + 1], t[k + 2]];
    const [ax, ay, bx, by, cx, cy] = [warped[2 * a], warped[2 * a + 1], warped[2 * b], warped[2 * b + 1], warped[2 * c], warped[2 * c + 1]];
    const area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
    if (area === 0) continue;
    const [minX, maxX, minY, maxY] = [Math.min(ax, bx, cx), Math.max(ax, bx, cx), Math.min(ay, by, cy), Math.max(ay, by, cy)];
    const facing = triangleFacing(placed, a, b, c);
    for (let v = 0; v < n; v++) {
      const [x, y] = [template[3 * v], template[3 * v + 1]];
      if (x < minX || x > maxX || y < minY || y > maxY) continue;
      const wb = ((x - ax) * (cy - ay) - (cx - ax) * (y - ay)) / area;
      const wc = ((bx - ax) * (y - ay) - (x - ax) * (by - ay)) / area;
      const wa = 1 - wb - wc;
      if (wa < 0 || wb < 0 || wc < 0) continue;
      const z = wa * placed[3 * a + 2] + wb * placed[3 * b + 2] + wc * placed[3 * c + 2];
      if (z <= front[v]) continue;
      front[v] = z;
      corners.set([a, b, c], 3 * v);
      weights.set([wa, wb, wc], 3 * v);
      valid[v] = facing >= MIN_FACING ? 1 : 0;
    }
  }
  return { corners, weights, valid, rotation, scale, translation };
}

/** The z of the unit normal of scan triangle a, b, c (counter-clockwise seen from +z faces the camera). */
function triangleFacing(p: Float64Array, a: number, b: number, c: number): number {
  const u = [0, 1, 2].map((k) => p[3 * b + k] - p[3 * a + k]);
  const w = [0, 1, 2].map((k) => p[3 * c + k] - p[3 * a + k]);
  const normal = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
  return normal[2] / (Math.hypot(...normal) || 1);
}

/**
 * A scan shape (`positions`: every scan vertex, mm, the kit's frame) on the template's 468 vertices:
 * valid vertices at their barycentric points (in the template's frame), the others moved as their
 * neighbours are (the displacement from the template spread harmonically over the mesh's edges).
 */
export function scanOnTemplate(template: Float32Array, correspondence: ScanCorrespondence, positions: ArrayLike<number>): Float32Array {
  const placed = applySimilarity(Float64Array.from(positions), correspondence.rotation, correspondence.scale, correspondence.translation);
  const n = template.length / 3;
  const shift = new Float64Array(3 * n);
  for (let v = 0; v < n; v++) {
    if (!correspondence.valid[v]) continue;
    for (let axis = 0; axis < 3; axis++) {
      let point = 0;
      for (let k = 0; k < 3; k++) point += correspondence.weights[3 * v + k] * placed[3 * correspondence.corners[3 * v + k] + axis];
      shift[3 * v + axis] = point - template[3 * v + axis];
    }
  }
  const neighbours = edgeNeighbours(FACEMESH_TRIANGLES, n);
  for (let sweep = 0; sweep < FILL_SWEEPS; sweep++) {
    for (let v = 0; v < n; v++) {
      if (correspondence.valid[v] || neighbours[v].size === 0) continue;
      for (let axis = 0; axis < 3; axis++) {
        let sum = 0;
        for (const u of neighbours[v]) sum += shift[3 * u + axis];
        shift[3 * v + axis] = sum / neighbours[v].size;
      }
    }
  }
  return Float32Array.from(template, (value, c) => value + shift[c]);
}

/** A random scan person: the neutral face plus every identity mode at a weight drawn from N(0, 1), as the kit samples them. */
export function randomScanShape(scan: ScanModel, random: Random): Float32Array {
  const { mean, basis } = scan.model.identity;
  const shape = Float32Array.from(mean);
  for (let r = 0; r < basis.rows; r++) {
    const w = randomNormal(random);
    for (let c = 0; c < basis.cols; c++) shape[c] += w * basis.data[r * basis.cols + c];
  }
  return shape;
}

/**
 * `truth`'s depth less `template`'s per vertex (mm), after the scale and shift that best put
 * `truth`'s x, y on the template's over `valid` vertices: what a face's depth looks like once it is
 * posed on its landmarks' x, y, as fidelity3d poses meshes on photos (a plane left over is pose,
 * which every comparison takes out).
 */
export function depthDeviation(template: Float32Array, truth: Float32Array, valid: Uint8Array): Float64Array {
  let count = 0;
  const centre = [0, 0, 0, 0];
  valid.forEach((keep, v) => {
    if (!keep) return;
    count++;
    centre[0] += truth[3 * v]; centre[1] += truth[3 * v + 1]; centre[2] += template[3 * v]; centre[3] += template[3 * v + 1];
  });
  const [tx, ty, mx, my] = centre.map((s) => s / count);
  let cross = 0;
  let spread = 0;
  valid.forEach((keep, v) => {
    if (!keep) return;
    cross += (truth[3 * v] - tx) * (template[3 * v] - mx) + (truth[3 * v + 1] - ty) * (template[3 * v + 1] - my);
    spread += (truth[3 * v] - tx) ** 2 + (truth[3 * v + 1] - ty) ** 2;
  });
  const scale = cross / spread;
  return Float64Array.from({ length: valid.length }, (_, v) => scale * truth[3 * v + 2] - template[3 * v + 2]);
}

/** `count` people whose true shapes are random scan shapes carried onto `template`, photographed as `shading-synthetic.ts` photographs its people. */
export function scanTruthPeople(template: Float32Array, scan: ScanModel, shape: Omit<SyntheticPeopleShape, 'rmsMm'>, options: SyntheticPhotoOptions, random: Random): { people: SyntheticPerson[]; valid: Uint8Array } {
  const correspondence = scanCorrespondence(template, scan);
  const people = Array.from({ length: shape.count }, () => {
    const truth = scanOnTemplate(template, correspondence, randomScanShape(scan, random));
    const albedo = shape.ownSkin ? personAlbedo(template.length / 3, random) : undefined;
    const lighting = shape.sameLight ? randomLight(options.light, random) : undefined;
    return { deviation: depthDeviation(template, truth, correspondence.valid), photos: Array.from({ length: shape.photos }, () => photographShaded(truth, { ...options, albedo, lighting }, random)) };
  });
  return { people, valid: correspondence.valid };
}

/**
 * The scans' identity space on the template, as depth (model z, mm) per template vertex: `offset`,
 * the scans' mean face less the template (`depthDeviation`; its best-fit plane over all vertices out: a
 * plane is pose);
 * `modes`, each identity mode's depth on the template (the carrying is linear in the scan's
 * positions). A joint fit confined to it (`change-space.ts`'s `spaceInDepth`) serves a face the scans could
 * be, whose population mean is theirs, not FaceMesh's; `withMean` false keeps the template's mean
 * (offset 0) and confines only the person's own change.
 */
export function identitySpace(template: Float32Array, scan: ScanModel, withMean = true): ChangeSpace {
  const correspondence = scanCorrespondence(template, scan);
  const { mean, basis } = scan.model.identity;
  const n = template.length / 3;
  const neutral = scanOnTemplate(template, correspondence, mean);
  const offset = withMean ? removePlane(depthDeviation(template, neutral, correspondence.valid), template, new Uint8Array(n).fill(1)) : new Float64Array(n);
  const data = new Float64Array(basis.rows * n);
  for (let r = 0; r < basis.rows; r++) {
    const moved = scanOnTemplate(template, correspondence, Float32Array.from(mean, (v, c) => v + basis.data[r * basis.cols + c]));
    for (let v = 0; v < n; v++) data[r * n + v] = moved[3 * v + 2] - neutral[3 * v + 2];
  }
  return { offset, modes: { rows: basis.rows, data } };
}

/** A space by name in the tools' JSON settings: "scans" about the scans' mean, "scans-own" about the template's (`identitySpace`). */
export type SpaceName = 'scans' | 'scans-own';

/** The named spaces on `template`, each carried once, from the scan model `load` gives (called once, when first needed). */
export function scanSpaces(template: Float32Array, load: () => Promise<ScanModel>): (name: SpaceName) => Promise<ChangeSpace> {
  let scan: Promise<ScanModel> | undefined;
  const spaces = new Map<SpaceName, ChangeSpace>();
  return async (name) => {
    if (!spaces.has(name)) spaces.set(name, identitySpace(template, await (scan ??= load()), name === 'scans'));
    return spaces.get(name)!;
  };
}

/** A joint fit's settings as the tools read them from JSON: a named space for its change, and the space's prior (`DEFAULT_SPACE_PRIOR`). */
export type NamedSpaceOptions = Omit<JointRefineOptions, 'rule'> & { readonly space?: SpaceName; readonly spacePrior?: number };

/** `DownloadDepthOptions` as the tools read them from JSON: a joint or gated depth may name its space. */
export type NamedDepthOptions = DownloadDepthOptions | ({ readonly method: 'joint' } & NamedSpaceOptions) | ({ readonly method: 'gated'; readonly evidence?: number } & NamedSpaceOptions);

/** The joint fit's rule for the space `options` name, made real by `spaces` (`scanSpaces`); undefined where they name none. */
export async function namedSpaceRule(options: NamedSpaceOptions, spaces: (name: SpaceName) => Promise<ChangeSpace>): Promise<JointRefineOptions['rule']> {
  return options.space && spaceInDepth(await spaces(options.space), options.spacePrior);
}

/** `options` with their named space, if any, made the joint fit's rule (`namedSpaceRule`). */
export async function resolveSpace(options: NamedDepthOptions, spaces: (name: SpaceName) => Promise<ChangeSpace>): Promise<DownloadDepthOptions> {
  if (options.method === 'mean' || !('space' in options)) return options as DownloadDepthOptions;
  const { space, spacePrior, ...rest } = options;
  return { ...rest, rule: await namedSpaceRule({ space, spacePrior }, spaces) };
}
