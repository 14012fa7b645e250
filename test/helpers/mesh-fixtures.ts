/** Small synthetic meshes and textures for the mesh, renderer and UV-warp tests. */
import type { RgbImage } from '../../src/core/image.js';
import type { Mesh } from '../../src/mesh/mesh.js';
import { FACEMESH_TRIANGLES, FACEMESH_UVS, FACEMESH_VERTEX_COUNT } from '../../src/morphable/facemesh-topology.js';

/** Turns every triangle of a closed surface around the origin counter-clockwise seen from outside. */
function outwardIndices(positions: Float32Array, triangles: number[][]): Uint32Array {
  const out: number[] = [];
  for (const [a, b, c] of triangles) {
    const p = (i: number, k: number): number => positions[3 * i + k];
    const e1 = [0, 1, 2].map((k) => p(b, k) - p(a, k));
    const e2 = [0, 1, 2].map((k) => p(c, k) - p(a, k));
    const normal = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
    const centroid = [0, 1, 2].map((k) => p(a, k) + p(b, k) + p(c, k));
    const facing = normal[0] * centroid[0] + normal[1] * centroid[1] + normal[2] * centroid[2];
    if (Math.hypot(normal[0], normal[1], normal[2]) < 1e-12) continue;
    out.push(...(facing >= 0 ? [a, b, c] : [a, c, b]));
  }
  return Uint32Array.from(out);
}

/** Colours that vary smoothly with position in [-1, 1]^3. */
function positionColours(positions: Float32Array): Uint8Array {
  return Uint8Array.from(positions, (value) => Math.round(((value + 1) / 2) * 255));
}

/** Axis-aligned cube of half-size 1 centred at the origin, 8 shared vertices, coloured by position. */
export function cube(): Mesh {
  const positions = new Float32Array(24);
  for (let i = 0; i < 8; i++) positions.set([i & 1 ? 1 : -1, i & 2 ? 1 : -1, i & 4 ? 1 : -1], 3 * i);
  const quads = [
    [0, 1, 3, 2], [4, 5, 7, 6], [0, 1, 5, 4], [2, 3, 7, 6], [0, 2, 6, 4], [1, 3, 7, 5],
  ];
  const triangles = quads.flatMap(([a, b, c, d]) => [[a, b, c], [a, c, d]]);
  return { positions, indices: outwardIndices(positions, triangles), colors: positionColours(positions) };
}

/** Unit sphere from a latitude/longitude grid, coloured by position, with equirectangular UVs. */
export function sphere(rings = 24, segments = 48): Mesh {
  const columns = segments + 1;
  const positions = new Float32Array((rings + 1) * columns * 3);
  const uvs = new Float32Array((rings + 1) * columns * 2);
  for (let i = 0; i <= rings; i++) {
    const theta = (Math.PI * i) / rings;
    for (let j = 0; j <= segments; j++) {
      const phi = (2 * Math.PI * j) / segments;
      const v = i * columns + j;
      positions.set([Math.sin(theta) * Math.cos(phi), Math.cos(theta), Math.sin(theta) * Math.sin(phi)], 3 * v);
      uvs.set([j / segments, i / rings], 2 * v);
    }
  }
  const triangles: number[][] = [];
  for (let i = 0; i < rings; i++) {
    for (let j = 0; j < segments; j++) {
      const a = i * columns + j;
      triangles.push([a, a + columns, a + columns + 1], [a, a + columns + 1, a + 1]);
    }
  }
  return { positions, indices: outwardIndices(positions, triangles), colors: positionColours(positions), uvs };
}

/**
 * A face-like surface on the FaceMesh topology, in the model frame (y up, +z to the viewer): the UV
 * layout spread over [-1, 1]^2, bent into a dome with a Gaussian nose. Carries the layout as UVs.
 */
export function facemeshDome(noseHeight = 0.35): Mesh {
  const positions = new Float32Array(FACEMESH_VERTEX_COUNT * 3);
  for (let i = 0; i < FACEMESH_VERTEX_COUNT; i++) {
    const u = FACEMESH_UVS[2 * i];
    const v = FACEMESH_UVS[2 * i + 1];
    const x = (u - 0.5) * 2;
    const y = (0.5 - v) * 2;
    const dome = 0.6 * Math.sqrt(Math.max(0, 1 - 0.8 * x * x - 0.5 * y * y));
    const nose = noseHeight * Math.exp(-((u - 0.5) ** 2 + (v - 0.52) ** 2) / (2 * 0.05 ** 2));
    positions.set([x, y, dome + nose], 3 * i);
  }
  return { positions, indices: FACEMESH_TRIANGLES.slice(), uvs: FACEMESH_UVS.slice() };
}

/** A size x size image whose colour at every pixel is a function of the pixel centre in [0, 1]^2. */
export function patternImage(size: number, colourAt: (u: number, v: number) => readonly number[]): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const colour = colourAt((x + 0.5) / size, (y + 0.5) / size);
      for (let c = 0; c < 3; c++) data[3 * (y * size + x) + c] = Math.round(colour[c]);
    }
  }
  return { data, width: size, height: size };
}

/** Linear in u and v, so bilinear resampling reproduces it up to rounding. */
export function uvGradient(u: number, v: number): readonly number[] {
  return [255 * u, 255 * v, 255 * (1 - (u + v) / 2)];
}
