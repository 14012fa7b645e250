/**
 * A face3d 3D morphable model ("bundle"): a manifest plus flat float32 files, loaded once.
 *   shape      S = μ_S + U_S (σ_S ⊙ α) + E (σ_E ⊙ e)   (vertexCount x 3, x y z interleaved, millimetres, y up)
 *   texture    T = μ_T + U_T (σ_T ⊙ β)                 (0..255 RGB: an image in the UV layout, or one colour per vertex)
 * α and β are the identity vector (σ units, as in the Basel Face Model); e is the per-photo
 * expression, kept apart from identity.
 *
 * Topologies: 'mediapipe-facemesh-468' (our own bundles: FaceMesh's triangles and UVs, a UV texture
 * image of texture.size) or 'custom' (imported models such as the Basel Face Model: triangles in a
 * uint32 file, texture per vertex). Bundles written before 'custom' existed read unchanged.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Face3dError } from '../core/errors.js';
import type { Matrix } from '../core/linear-algebra.js';
import { FACEMESH_TRIANGLES } from './facemesh-topology.js';
import type { ImpostorCurve } from '../training/impostor-tail.js';

export const BUNDLE_FORMAT_VERSION = 1;

export interface LinearModelFiles {
  readonly components: number;
  readonly dims: number;
  readonly mean: string;
  readonly basis: string;
  readonly sigma: string;
}

export type BundleTopology = 'mediapipe-facemesh-468' | 'custom';

/** A texture image of size x size in the topology's UV layout (`kind` absent in older bundles), or one RGB colour per vertex. */
export type TextureFiles = LinearModelFiles & ({ readonly kind?: 'uv-image'; readonly size: number } | { readonly kind: 'per-vertex' });

/** uint32 vertex indices, three per triangle, 0-based, counter-clockwise seen from the front. */
export interface TrianglesFile {
  readonly file: string;
  readonly count: number;
}

export interface BundleManifest {
  readonly format: number;
  readonly id: string;
  readonly description: string;
  readonly vertexCount: number;
  readonly topology: BundleTopology;
  /** Required for the 'custom' topology. */
  readonly triangles?: TrianglesFile;
  readonly units: 'mm';
  readonly shape: LinearModelFiles;
  /** Zero components when the model has none (the Basel Face Model 2009). */
  readonly expression: LinearModelFiles;
  readonly texture: TextureFiles;
  /** The preprocessing the regressor was trained with (identity crop framing, feature network). */
  readonly preprocessing: Readonly<Record<string, unknown>>;
  /** The regression head from identity features to [α, β], if trained. */
  readonly regressor?: { readonly file: string; readonly inputDim: number; readonly outputDim: number; readonly featureNetwork: string };
  /**
   * Similarity threshold for "same person" at a documented per-pair false-accept rate and, since
   * issue 13 (absent in older bundles), the impostor curve that gives thresholds for a target
   * FPIR at any gallery size, with the simulation that checked it.
   */
  readonly calibration?: {
    readonly threshold: number;
    readonly falseAcceptRate: number;
    readonly measuredOn: string;
    readonly impostors?: ImpostorCurve;
    readonly galleryCheck?: readonly GalleryCheck[];
  };
  readonly training?: Readonly<Record<string, unknown>>;
  /**
   * Issue 14, absent in older bundles: a per-vertex offset (float32, flat xyz, mm) correcting the
   * population's depth, learnt from faces seen in frontal and full-profile photos
   * (tools/depth/build-depth.ts). Added to μ_S + U_S(σ_S ⊙ α) wherever a mesh is built, never to
   * the identity vector, so identification does not change with it.
   */
  readonly depth?: { readonly offset: string; readonly dims: number; readonly source: string };
}

/** A simulated gallery of held-out people: the FPIR the curve predicts at a threshold, and the one measured there. */
export interface GalleryCheck {
  readonly templates: number;
  readonly targetFpir: number;
  readonly threshold: number;
  /** With the independence assumption (Nₑ = N). */
  readonly independentFpir: number;
  /** With the fitted Nₑ = N^b, what the service uses. */
  readonly predictedFpir: number;
  readonly simulatedFpir: number;
  readonly trials: number;
}

/** One linear model (mean + orthonormal basis rows + per-component standard deviations). */
export interface LinearModel {
  readonly mean: Float32Array;
  readonly basis: Matrix<Float32Array>;
  readonly sigma: Float32Array;
}

export interface Bundle {
  readonly dir: string;
  readonly manifest: BundleManifest;
  readonly shape: LinearModel;
  readonly expression: LinearModel;
  readonly texture: LinearModel;
  readonly triangles: Uint32Array;
  /** The manifest's `depth` offset, if any. */
  readonly depthOffset?: Float32Array;
}

async function readFileBuffer(path: string, expectedValues: number): Promise<ArrayBuffer> {
  const bytes = await readFile(path);
  if (bytes.byteLength !== expectedValues * 4) {
    throw new Face3dError('MODEL_UNAVAILABLE', `${path} holds ${bytes.byteLength / 4} values, expected ${expectedValues}`);
  }
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

async function readFloat32(path: string, expected: number): Promise<Float32Array> {
  return new Float32Array(await readFileBuffer(path, expected));
}

/** The texture image's side for UV-image bundles; MODEL_UNAVAILABLE for per-vertex ones, which have no image. */
export function uvTextureSize(manifest: BundleManifest): number {
  const { texture } = manifest;
  if (texture.kind === 'per-vertex') throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${manifest.id} has per-vertex colours, not a UV texture image`);
  return texture.size;
}

async function loadTriangles(dir: string, manifest: BundleManifest): Promise<Uint32Array> {
  if (manifest.topology === 'mediapipe-facemesh-468') return FACEMESH_TRIANGLES;
  if (!manifest.triangles) throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${manifest.id} has a custom topology but no triangles file`);
  const triangles = new Uint32Array(await readFileBuffer(join(dir, manifest.triangles.file), manifest.triangles.count * 3));
  const outside = triangles.find((index) => index >= manifest.vertexCount);
  if (outside !== undefined) throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${manifest.id}: triangle index ${outside} is outside its ${manifest.vertexCount} vertices`);
  return triangles;
}

async function loadLinearModel(dir: string, files: LinearModelFiles): Promise<LinearModel> {
  const [mean, basis, sigma] = await Promise.all([
    readFloat32(join(dir, files.mean), files.dims),
    readFloat32(join(dir, files.basis), files.components * files.dims),
    readFloat32(join(dir, files.sigma), files.components),
  ]);
  return { mean, basis: { rows: files.components, cols: files.dims, data: basis }, sigma };
}

/** The bundle directory's manifest.json: the one reader of it (loading, encoders, importers, the CLI). */
export async function readBundleManifest(dir: string): Promise<BundleManifest> {
  try {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BundleManifest;
  } catch (error) {
    throw new Face3dError('MODEL_UNAVAILABLE', `no readable bundle manifest in ${dir}: ${(error as Error).message}`);
  }
}

export async function loadBundle(dir: string): Promise<Bundle> {
  const manifest = await readBundleManifest(dir);
  if (manifest.format !== BUNDLE_FORMAT_VERSION) {
    throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${manifest.id} has format ${manifest.format}; this face3d reads format ${BUNDLE_FORMAT_VERSION}`);
  }
  const vertexDims = manifest.vertexCount * 3;
  const perVertexTexture = manifest.texture.kind === 'per-vertex';
  if (manifest.shape.dims !== vertexDims || (perVertexTexture && manifest.texture.dims !== vertexDims)) {
    throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${manifest.id}: shape or per-vertex texture dims differ from 3 x ${manifest.vertexCount} vertices`);
  }
  const [shape, expression, texture, triangles, depth] = await Promise.all([
    loadLinearModel(dir, manifest.shape),
    loadLinearModel(dir, manifest.expression),
    loadLinearModel(dir, manifest.texture),
    loadTriangles(dir, manifest),
    manifest.depth ? loadDepthOffset(dir, manifest.depth, vertexDims) : undefined,
  ]);
  return { dir, manifest, shape, expression, texture, triangles, ...(depth ? { depthOffset: depth } : {}) };
}

async function loadDepthOffset(dir: string, files: NonNullable<BundleManifest['depth']>, vertexDims: number): Promise<Float32Array> {
  if (files.dims !== vertexDims) throw new Face3dError('MODEL_UNAVAILABLE', `bundle depth offset has ${files.dims} dims, expected ${vertexDims}`);
  return readFloat32(join(dir, files.offset), files.dims);
}

/** The neutral face's shape: μ_S + U_S(σ_S ⊙ α), plus the bundle's depth offset where it has one. */
export function neutralShape(bundle: Bundle, shape: ArrayLike<number>): Float32Array {
  const out = synthesise(bundle.shape, shape);
  const offset = bundle.depthOffset;
  if (offset) for (let c = 0; c < out.length; c++) out[c] += offset[c];
  return out;
}

/** mean + Σ_j basis_j σ_j c_j, in float32 (the runtime's precision). Missing coefficients are 0. */
export function synthesise(model: LinearModel, coefficients: ArrayLike<number>, out = Float32Array.from(model.mean)): Float32Array {
  const d = model.basis.cols;
  const k = Math.min(coefficients.length, model.basis.rows);
  for (let j = 0; j < k; j++) {
    const scale = coefficients[j] * model.sigma[j];
    if (scale === 0) continue;
    const row = j * d;
    for (let c = 0; c < d; c++) out[c] += scale * model.basis.data[row + c];
  }
  return out;
}

/** Writes one linear model as `<prefix>-mean.f32`, `-basis.f32`, `-sigma.f32`; returns its manifest entry. */
export async function writeLinearModel(dir: string, prefix: string, model: LinearModel): Promise<LinearModelFiles> {
  const files = { mean: `${prefix}-mean.f32`, basis: `${prefix}-basis.f32`, sigma: `${prefix}-sigma.f32` };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, files.mean), model.mean);
  await writeFile(join(dir, files.basis), model.basis.data);
  await writeFile(join(dir, files.sigma), model.sigma);
  return { components: model.basis.rows, dims: model.basis.cols, ...files };
}

/** Writes a custom topology's triangles as `triangles.u32`; returns its manifest entry. */
export async function writeTriangles(dir: string, triangles: Uint32Array): Promise<TrianglesFile> {
  const file = 'triangles.u32';
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, file), triangles);
  return { file, count: triangles.length / 3 };
}

export async function writeManifest(dir: string, manifest: BundleManifest): Promise<void> {
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
