import { describe, expect, it } from '@jest/globals';

import { exportableMesh } from '../../../src/gallery/mesh-export.js';
import { defaultBundleDir } from '../../../src/inference/face-encoder.js';
import { computeVertexNormals, triangleCount, vertexCount, type Mesh } from '../../../src/mesh/mesh.js';
import { loopSubdivide, subdivide } from '../../../src/mesh/subdivide.js';
import { loadBundle } from '../../../src/morphable/bundle.js';
import { FACEMESH_TRIANGLES, FACEMESH_UVS } from '../../../src/morphable/facemesh-topology.js';

function edgeCount(indices: Uint32Array): number {
  const edges = new Set<string>();
  for (let t = 0; t < indices.length; t += 3) {
    for (let k = 0; k < 3; k++) {
      const [a, b] = [indices[t + k], indices[t + ((k + 1) % 3)]];
      edges.add(a < b ? `${a},${b}` : `${b},${a}`);
    }
  }
  return edges.size;
}

/** A 5 x 5 grid of squares, two triangles each, on the plane z = 0.3x − 0.2y + 1. */
function tiltedGrid(): Mesh {
  const positions: number[] = [];
  for (let y = 0; y <= 5; y++) for (let x = 0; x <= 5; x++) positions.push(x, y, 0.3 * x - 0.2 * y + 1);
  const indices: number[] = [];
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      const v = y * 6 + x;
      indices.push(v, v + 1, v + 7, v, v + 7, v + 6);
    }
  }
  return { positions: Float32Array.from(positions), indices: Uint32Array.from(indices) };
}

describe('Loop subdivision', () => {
  it('adds a vertex per edge and splits each triangle in four, keeping the parents\' vertices first', () => {
    const mesh: Mesh = { positions: new Float32Array(468 * 3).map((_, i) => Math.sin(i)), indices: FACEMESH_TRIANGLES, uvs: FACEMESH_UVS };
    const once = loopSubdivide(mesh);
    expect(vertexCount(once)).toBe(468 + edgeCount(FACEMESH_TRIANGLES));
    expect(triangleCount(once)).toBe(4 * 880);
    expect(vertexCount(subdivide(mesh, 2))).toBe(vertexCount(once) + edgeCount(once.indices));
    // UVs are not smoothed: the parents' stay, each new one is its edge's midpoint.
    expect(once.uvs!.subarray(0, 468 * 2)).toEqual(FACEMESH_UVS);
    const [a, b] = [FACEMESH_TRIANGLES[0], FACEMESH_TRIANGLES[1]];
    const midpoint = [(FACEMESH_UVS[2 * a] + FACEMESH_UVS[2 * b]) / 2, (FACEMESH_UVS[2 * a + 1] + FACEMESH_UVS[2 * b + 1]) / 2];
    const ab = once.indices[1];
    expect(once.uvs![2 * ab]).toBeCloseTo(midpoint[0], 6);
    expect(once.uvs![2 * ab + 1]).toBeCloseTo(midpoint[1], 6);
  });

  it('keeps a plane a plane, boundary included (Loop\'s rules are affine)', () => {
    const dense = subdivide(tiltedGrid(), 2);
    for (let v = 0; v < vertexCount(dense); v++) {
      const [x, y, z] = dense.positions.subarray(3 * v, 3 * v + 3);
      expect(z).toBeCloseTo(0.3 * x - 0.2 * y + 1, 5);
    }
  });

  it('keeps the face\'s surface facing the way the coarse face did (vertex normals)', async () => {
    const bundle = await loadBundle(defaultBundleDir());
    const face = await exportableMesh(bundle, { shape: [], texture: [] });
    const coarse = { positions: Float32Array.from(bundle.shape.mean), indices: FACEMESH_TRIANGLES };
    const parentNormals = computeVertexNormals(coarse);
    const normals = computeVertexNormals(face);
    let agreeing = 0;
    for (let v = 0; v < 468; v++) {
      const dot = normals[3 * v] * parentNormals[3 * v] + normals[3 * v + 1] * parentNormals[3 * v + 1] + normals[3 * v + 2] * parentNormals[3 * v + 2];
      if (dot > 0.5) agreeing++;
    }
    // All but the lips' line, whose normals the closed mouth turned.
    expect(agreeing).toBeGreaterThan(440);
  });
});
