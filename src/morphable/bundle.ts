/**
 * A face3d 3D morphable model ("bundle"): a manifest plus flat float32 files, loaded once.
 *   shape      S = μ_S + U_S (σ_S ⊙ α) + E (σ_E ⊙ e)   (468 x 3 FaceMesh vertices, millimetres, y up)
 *   texture    T = μ_T + U_T (σ_T ⊙ β)                 (size x size RGB in FaceMesh's UV layout, 0..255)
 * α and β are the identity vector (σ units, as in the Basel Face Model); e is the per-photo
 * expression, kept apart from identity.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Face3dError } from '../errors.js';
import type { Matrix } from '../training/linear-algebra.js';

export const BUNDLE_FORMAT_VERSION = 1;

export interface LinearModelFiles {
  readonly components: number;
  readonly dims: number;
  readonly mean: string;
  readonly basis: string;
  readonly sigma: string;
}

export interface BundleManifest {
  readonly format: number;
  readonly id: string;
  readonly description: string;
  readonly vertexCount: number;
  readonly topology: 'mediapipe-facemesh-468';
  readonly units: 'mm';
  readonly shape: LinearModelFiles;
  readonly expression: LinearModelFiles;
  readonly texture: LinearModelFiles & { readonly size: number };
  /** The preprocessing the regressor was trained with (identity crop framing, feature network). */
  readonly preprocessing: Readonly<Record<string, unknown>>;
  /** The regression head from identity features to [α, β], if trained. */
  readonly regressor?: { readonly file: string; readonly inputDim: number; readonly outputDim: number; readonly featureNetwork: string };
  /** Similarity threshold for "same person" at a documented false-accept rate. */
  readonly calibration?: { readonly threshold: number; readonly falseAcceptRate: number; readonly measuredOn: string };
  readonly training?: Readonly<Record<string, unknown>>;
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
}

async function readFloat32(path: string, expected: number): Promise<Float32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength !== expected * 4) {
    throw new Face3dError('MODEL_UNAVAILABLE', `${path} holds ${bytes.byteLength / 4} floats, expected ${expected}`);
  }
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

async function loadLinearModel(dir: string, files: LinearModelFiles): Promise<LinearModel> {
  const [mean, basis, sigma] = await Promise.all([
    readFloat32(join(dir, files.mean), files.dims),
    readFloat32(join(dir, files.basis), files.components * files.dims),
    readFloat32(join(dir, files.sigma), files.components),
  ]);
  return { mean, basis: { rows: files.components, cols: files.dims, data: basis }, sigma };
}

export async function loadBundle(dir: string): Promise<Bundle> {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BundleManifest;
  } catch (error) {
    throw new Face3dError('MODEL_UNAVAILABLE', `no readable bundle manifest in ${dir}: ${(error as Error).message}`);
  }
  if (manifest.format !== BUNDLE_FORMAT_VERSION) {
    throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${manifest.id} has format ${manifest.format}; this face3d reads format ${BUNDLE_FORMAT_VERSION}`);
  }
  const [shape, expression, texture] = await Promise.all([
    loadLinearModel(dir, manifest.shape),
    loadLinearModel(dir, manifest.expression),
    loadLinearModel(dir, manifest.texture),
  ]);
  return { dir, manifest, shape, expression, texture };
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

export async function writeManifest(dir: string, manifest: BundleManifest): Promise<void> {
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
