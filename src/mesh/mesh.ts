/**
 * The triangle mesh every writer and the preview renderer take.
 *
 * Model frame: right-handed, y up, +z towards the viewer (the glTF convention), triangles
 * counter-clockwise when seen from their front. UVs have v growing downwards (image rows, as glTF
 * and the FaceMesh layout use); the OBJ writer flips v for that format.
 */
import { Face3dError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';

export interface Mesh {
  /** x0, y0, z0, x1, ... */
  readonly positions: Float32Array;
  /** Three vertex indices per triangle. */
  readonly indices: Uint32Array;
  /** sRGB bytes, r0, g0, b0, r1, ... */
  readonly colors?: Uint8Array;
  /** u0, v0, u1, ... with v growing downwards. */
  readonly uvs?: Float32Array;
  /** Sampled through `uvs`; only meaningful when those exist. */
  readonly texture?: RgbImage;
}

export interface Bounds {
  readonly min: [number, number, number];
  readonly max: [number, number, number];
}

export function vertexCount(mesh: Mesh): number {
  return mesh.positions.length / 3;
}

export function triangleCount(mesh: Mesh): number {
  return mesh.indices.length / 3;
}

/** Throws BAD_USER_INPUT when array lengths disagree or an index points outside the vertices. */
export function validateMesh(mesh: Mesh): void {
  const fail = (why: string): never => {
    throw new Face3dError('BAD_USER_INPUT', `invalid mesh: ${why}`);
  };
  const count = vertexCount(mesh);
  if (!Number.isInteger(count)) fail('positions length is not a multiple of 3');
  if (mesh.indices.length % 3 !== 0) fail('indices length is not a multiple of 3');
  if (mesh.colors && mesh.colors.length !== count * 3) fail('colors length differs from 3 x vertex count');
  if (mesh.uvs && mesh.uvs.length !== count * 2) fail('uvs length differs from 2 x vertex count');
  if (mesh.texture && !mesh.uvs) fail('a texture needs uvs');
  if (mesh.texture && mesh.texture.data.length !== mesh.texture.width * mesh.texture.height * 3) {
    fail('texture data length differs from width x height x 3');
  }
  for (const index of mesh.indices) {
    if (index >= count) fail(`index ${index} out of range for ${count} vertices`);
  }
  for (const value of mesh.positions) {
    if (!Number.isFinite(value)) fail('positions contain a non-finite value');
  }
}

export function computeBounds(positions: Float32Array): Bounds {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < positions.length; i += 3) {
    for (let axis = 0; axis < 3; axis++) {
      const value = positions[i + axis];
      if (value < min[axis]) min[axis] = value;
      if (value > max[axis]) max[axis] = value;
    }
  }
  return { min, max };
}

/**
 * Area-weighted vertex normals (unit length; a vertex on no triangle gets +z). Summing the
 * unnormalised face cross products is what weights by area.
 */
export function computeVertexNormals(mesh: Mesh): Float32Array {
  const { positions, indices } = mesh;
  const normals = new Float32Array(positions.length);
  for (let t = 0; t < indices.length; t += 3) {
    const a = 3 * indices[t];
    const b = 3 * indices[t + 1];
    const c = 3 * indices[t + 2];
    const e1x = positions[b] - positions[a];
    const e1y = positions[b + 1] - positions[a + 1];
    const e1z = positions[b + 2] - positions[a + 2];
    const e2x = positions[c] - positions[a];
    const e2y = positions[c + 1] - positions[a + 1];
    const e2z = positions[c + 2] - positions[a + 2];
    const nx = e1y * e2z - e1z * e2y;
    const ny = e1z * e2x - e1x * e2z;
    const nz = e1x * e2y - e1y * e2x;
    for (const v of [a, b, c]) {
      normals[v] += nx;
      normals[v + 1] += ny;
      normals[v + 2] += nz;
    }
  }
  for (let v = 0; v < normals.length; v += 3) {
    const length = Math.hypot(normals[v], normals[v + 1], normals[v + 2]);
    if (length > 0) {
      normals[v] /= length;
      normals[v + 1] /= length;
      normals[v + 2] /= length;
    } else {
      normals[v + 2] = 1;
    }
  }
  return normals;
}

/**
 * FaceMesh landmarks (x right, y down, z growing away from the camera, image pixels) to the model
 * frame: a half turn about x, so handedness and triangle winding are kept.
 */
export function imageToModelSpace(points3d: Float32Array): Float32Array {
  const model = new Float32Array(points3d.length);
  for (let i = 0; i < points3d.length; i += 3) {
    model[i] = points3d[i];
    model[i + 1] = -points3d[i + 1];
    model[i + 2] = -points3d[i + 2];
  }
  return model;
}
