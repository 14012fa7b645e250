import { describe, expect, it } from '@jest/globals';

import {
  FACEMESH_LANDMARKS,
  FACEMESH_MIDLINE,
  FACEMESH_MIRROR,
  FACEMESH_REGIONS,
  FACEMESH_TRIANGLE_COUNT,
  FACEMESH_TRIANGLES,
  FACEMESH_UVS,
  FACEMESH_VERTEX_COUNT,
  type FaceRegion,
} from '../../../src/morphable/facemesh-topology.js';

const triangles = Array.from({ length: FACEMESH_TRIANGLES.length / 3 }, (_, t) =>
  Array.from(FACEMESH_TRIANGLES.subarray(3 * t, 3 * t + 3)),
);
const u = (i: number): number => FACEMESH_UVS[2 * i];
const v = (i: number): number => FACEMESH_UVS[2 * i + 1];

/** Signed area in the UV plane with v down: negative is counter-clockwise as seen by the camera. */
function uvSignedArea([a, b, c]: number[]): number {
  return (u(b) - u(a)) * (v(c) - v(a)) - (u(c) - u(a)) * (v(b) - v(a));
}

/** Directed edge "from>to" -> number of triangles using it in that direction. */
function directedEdges(): Map<string, number> {
  const edges = new Map<string, number>();
  for (const [a, b, c] of triangles) {
    for (const [p, q] of [[a, b], [b, c], [c, a]]) edges.set(`${p}>${q}`, (edges.get(`${p}>${q}`) ?? 0) + 1);
  }
  return edges;
}

/** Boundary edges (used by one triangle only), chained into closed loops of vertices. */
function boundaryLoops(): number[][] {
  const edges = directedEdges();
  const next = new Map<number, number>();
  for (const key of edges.keys()) {
    const [p, q] = key.split('>').map(Number);
    if (!edges.has(`${q}>${p}`)) next.set(p, q);
  }
  const loops: number[][] = [];
  const seen = new Set<number>();
  for (const start of next.keys()) {
    if (seen.has(start)) continue;
    const loop: number[] = [];
    for (let vertex = start; !seen.has(vertex); vertex = next.get(vertex) as number) {
      seen.add(vertex);
      loop.push(vertex);
    }
    loops.push(loop);
  }
  return loops;
}

describe('FaceMesh topology data', () => {
  it('has 468 UVs inside the unit square and 880 triangles over valid indices', () => {
    expect(FACEMESH_UVS).toHaveLength(FACEMESH_VERTEX_COUNT * 2);
    expect(FACEMESH_TRIANGLES).toHaveLength(FACEMESH_TRIANGLE_COUNT * 3);
    for (const value of FACEMESH_UVS) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    expect(Math.max(...FACEMESH_TRIANGLES)).toBeLessThan(FACEMESH_VERTEX_COUNT);
    expect(new Set(FACEMESH_TRIANGLES).size).toBe(FACEMESH_VERTEX_COUNT);
  });

  it('has no degenerate triangle, neither by index nor by UV area', () => {
    for (const triangle of triangles) {
      expect(new Set(triangle).size).toBe(3);
      expect(Math.abs(uvSignedArea(triangle))).toBeGreaterThan(1e-7);
    }
  });

  it('winds every triangle counter-clockwise as seen by the camera', () => {
    expect(triangles.filter((triangle) => uvSignedArea(triangle) >= 0)).toEqual([]);
  });

  it('is a consistently wound 2-manifold: every directed edge on exactly one triangle', () => {
    // A directed edge used twice means two triangles disagree on winding or an edge has three
    // triangles; once each way is the only way left for an edge to be shared.
    const edges = directedEdges();
    expect([...edges.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    const undirected = new Set([...edges.keys()].map((key) => key.split('>').map(Number).sort((a, b) => a - b).join('-')));
    // Euler characteristic of a sphere with two holes.
    expect(FACEMESH_VERTEX_COUNT - undirected.size + FACEMESH_TRIANGLE_COUNT).toBe(0);
  });

  it('is one connected piece', () => {
    const neighbours = Array.from({ length: FACEMESH_VERTEX_COUNT }, () => new Set<number>());
    for (const [a, b, c] of triangles) {
      neighbours[a].add(b).add(c);
      neighbours[b].add(a).add(c);
      neighbours[c].add(a).add(b);
    }
    const reached = new Set([0]);
    const queue = [0];
    while (queue.length > 0) {
      for (const next of neighbours[queue.pop() as number]) {
        if (!reached.has(next)) {
          reached.add(next);
          queue.push(next);
        }
      }
    }
    expect(reached.size).toBe(FACEMESH_VERTEX_COUNT);
  });

  it('has exactly two boundary loops: the face oval and the inner lip line', () => {
    const loops = boundaryLoops().map((loop) => new Set(loop));
    const innerLips = new Set([...FACEMESH_REGIONS.lipsUpperInner, ...FACEMESH_REGIONS.lipsLowerInner]);
    expect(loops).toHaveLength(2);
    expect(loops).toContainEqual(new Set(FACEMESH_REGIONS.faceOval));
    expect(loops).toContainEqual(innerLips);
  });
});

describe('FaceMesh landmarks and symmetry', () => {
  it('places the subject’s right side on the photo’s left (u < 0.5)', () => {
    expect(u(FACEMESH_LANDMARKS.rightEyeOuterCorner)).toBeLessThan(0.5);
    expect(u(FACEMESH_LANDMARKS.leftEyeOuterCorner)).toBeGreaterThan(0.5);
    expect(u(FACEMESH_LANDMARKS.mouthRightCorner)).toBeLessThan(u(FACEMESH_LANDMARKS.mouthLeftCorner));
    expect(v(FACEMESH_LANDMARKS.foreheadTop)).toBeLessThan(v(FACEMESH_LANDMARKS.noseTip));
    expect(v(FACEMESH_LANDMARKS.noseTip)).toBeLessThan(v(FACEMESH_LANDMARKS.chin));
    for (const region of Object.keys(FACEMESH_REGIONS) as FaceRegion[]) {
      const us = FACEMESH_REGIONS[region].map(u);
      if (region.startsWith('right')) expect(Math.max(...us)).toBeLessThan(0.5);
      if (region.startsWith('left')) expect(Math.min(...us)).toBeGreaterThan(0.5);
    }
  });

  it('mirror map is an involution pairing known left/right landmarks', () => {
    expect(FACEMESH_MIRROR).toHaveLength(FACEMESH_VERTEX_COUNT);
    FACEMESH_MIRROR.forEach((mirror, i) => expect(FACEMESH_MIRROR[mirror]).toBe(i));
    const { rightEyeOuterCorner, leftEyeOuterCorner, mouthRightCorner, mouthLeftCorner, rightFaceEdge, leftFaceEdge } =
      FACEMESH_LANDMARKS;
    expect(FACEMESH_MIRROR[rightEyeOuterCorner]).toBe(leftEyeOuterCorner);
    expect(FACEMESH_MIRROR[mouthRightCorner]).toBe(mouthLeftCorner);
    expect(FACEMESH_MIRROR[rightFaceEdge]).toBe(leftFaceEdge);
  });

  it('mirror map sends every right region onto its left twin, index by index', () => {
    for (const region of Object.keys(FACEMESH_REGIONS) as FaceRegion[]) {
      if (!region.startsWith('right')) continue;
      const twin = `left${region.slice('right'.length)}` as FaceRegion;
      expect(FACEMESH_REGIONS[region].map((i) => FACEMESH_MIRROR[i])).toEqual(FACEMESH_REGIONS[twin]);
    }
  });

  it('midline vertices sit on u = 0.5 and include the nose tip, forehead and chin', () => {
    expect(FACEMESH_MIDLINE.length).toBeGreaterThan(10);
    for (const i of FACEMESH_MIDLINE) expect(Math.abs(u(i) - 0.5)).toBeLessThan(2e-3);
    expect(FACEMESH_MIDLINE).toEqual(
      expect.arrayContaining([FACEMESH_LANDMARKS.noseTip, FACEMESH_LANDMARKS.foreheadTop, FACEMESH_LANDMARKS.chin]),
    );
  });

  it('mirrors almost every triangle onto another triangle of the mesh', () => {
    const keyOf = (triangle: number[]): string => [...triangle].sort((a, b) => a - b).join(',');
    const present = new Set(triangles.map(keyOf));
    const mirrored = triangles.filter((triangle) => present.has(keyOf(triangle.map((i) => FACEMESH_MIRROR[i]))));
    expect(mirrored.length / triangles.length).toBeGreaterThan(0.98);
  });
});
