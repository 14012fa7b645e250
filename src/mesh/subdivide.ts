/**
 * Loop subdivision (Loop 1987): every triangle split in four, the surface smoothed towards the limit
 * surface of the control mesh. A 468-vertex FaceMesh face is faceted at the nose and chin in any
 * viewer; two levels give 7,152 vertices and a smooth surface with normals to match.
 *
 * Boundaries (the face's outline, the lips' line) follow the boundary rules, so an outline stays a
 * smooth curve of its own vertices and does not shrink into the face. UVs and colours are
 * interpolated linearly, not smoothed: the texture stays where the layout puts it.
 */
import type { Mesh } from './mesh.js';

function edgeKey(a: number, b: number, vertices: number): number {
  return a < b ? a * vertices + b : b * vertices + a;
}

/** One level of Loop subdivision. */
export function loopSubdivide(mesh: Mesh): Mesh {
  const { positions, indices } = mesh;
  const n = positions.length / 3;
  // Per edge: the triangles' third vertices (one for a boundary edge, two inside) and the new vertex.
  const opposite = new Map<number, number[]>();
  for (let t = 0; t < indices.length; t += 3) {
    for (let k = 0; k < 3; k++) {
      const [a, b, c] = [indices[t + k], indices[t + ((k + 1) % 3)], indices[t + ((k + 2) % 3)]];
      const key = edgeKey(a, b, n);
      const list = opposite.get(key);
      if (list) list.push(c);
      else opposite.set(key, [c]);
    }
  }
  const edgeVertex = new Map<number, number>();
  let next = n;
  for (const key of opposite.keys()) edgeVertex.set(key, next++);
  const total = next;

  const out = new Float32Array(3 * total);
  const neighbours = Array.from({ length: n }, () => new Set<number>());
  const boundaryNeighbours = Array.from({ length: n }, () => [] as number[]);
  for (const [key, thirds] of opposite) {
    const [a, b] = [Math.floor(key / n), key % n];
    neighbours[a].add(b);
    neighbours[b].add(a);
    const v = edgeVertex.get(key)!;
    for (let axis = 0; axis < 3; axis++) {
      const [pa, pb] = [positions[3 * a + axis], positions[3 * b + axis]];
      out[3 * v + axis] = thirds.length === 2 ? (3 / 8) * (pa + pb) + (1 / 8) * (positions[3 * thirds[0] + axis] + positions[3 * thirds[1] + axis]) : (pa + pb) / 2;
    }
    if (thirds.length === 1) {
      boundaryNeighbours[a].push(b);
      boundaryNeighbours[b].push(a);
    }
  }
  for (let v = 0; v < n; v++) {
    const boundary = boundaryNeighbours[v];
    for (let axis = 0; axis < 3; axis++) {
      const p = positions[3 * v + axis];
      if (boundary.length === 2) {
        out[3 * v + axis] = (3 / 4) * p + (1 / 8) * (positions[3 * boundary[0] + axis] + positions[3 * boundary[1] + axis]);
      } else if (boundary.length > 0 || neighbours[v].size === 0) {
        // A corner where boundaries meet (or a lone vertex) stays put.
        out[3 * v + axis] = p;
      } else {
        const valence = neighbours[v].size;
        const beta = valence === 3 ? 3 / 16 : 3 / (8 * valence);
        let sum = 0;
        for (const w of neighbours[v]) sum += positions[3 * w + axis];
        out[3 * v + axis] = (1 - valence * beta) * p + beta * sum;
      }
    }
  }

  const interpolate = <T extends Float32Array | Uint8Array>(values: T | undefined, width: number, make: (length: number) => T): T | undefined => {
    if (!values) return undefined;
    const result = make(width * total);
    result.set(values.subarray(0, width * n));
    for (const [key, v] of edgeVertex) {
      const [a, b] = [Math.floor(key / n), key % n];
      for (let c = 0; c < width; c++) {
        const mean = (values[width * a + c] + values[width * b + c]) / 2;
        result[width * v + c] = values instanceof Uint8Array ? Math.round(mean) : mean;
      }
    }
    return result;
  };

  const split = new Uint32Array(4 * indices.length);
  for (let t = 0; t < indices.length; t += 3) {
    const [a, b, c] = [indices[t], indices[t + 1], indices[t + 2]];
    const [ab, bc, ca] = [edgeVertex.get(edgeKey(a, b, n))!, edgeVertex.get(edgeKey(b, c, n))!, edgeVertex.get(edgeKey(c, a, n))!];
    // Corners keep the parent's winding.
    split.set([a, ab, ca, b, bc, ab, c, ca, bc, ab, bc, ca], 4 * t);
  }
  return {
    positions: out,
    indices: split,
    colors: interpolate(mesh.colors, 3, (length) => new Uint8Array(length)),
    uvs: interpolate(mesh.uvs, 2, (length) => new Float32Array(length)),
    texture: mesh.texture,
  };
}

/** `levels` levels of Loop subdivision. */
export function subdivide(mesh: Mesh, levels: number): Mesh {
  let result = mesh;
  for (let level = 0; level < levels; level++) result = loopSubdivide(result);
  return result;
}
