import { describe, expect, it } from '@jest/globals';
import { mirrorShape, symmetriseShape, symmetriseTexture } from '../../../src/morphable/symmetry.js';
import { FACEMESH_MIRROR, FACEMESH_UVS, FACEMESH_VERTEX_COUNT } from '../../../src/morphable/facemesh-topology.js';

/** A symmetric face-like point set from the UV layout (x = 0 on the midline). */
function symmetricFace(): Float64Array {
  const out = new Float64Array(FACEMESH_VERTEX_COUNT * 3);
  for (let i = 0; i < FACEMESH_VERTEX_COUNT; i++) {
    const x = (FACEMESH_UVS[i * 2] - 0.5) * 100;
    const y = (0.5 - FACEMESH_UVS[i * 2 + 1]) * 100;
    out.set([x, y, 30 - (x * x) / 100], i * 3);
  }
  return out;
}

describe('symmetry', () => {
  it('mirroring twice is the identity and a symmetric face is its own mirror', () => {
    const face = symmetricFace();
    const twice = mirrorShape(mirrorShape(face));
    twice.forEach((v, c) => expect(v).toBeCloseTo(face[c], 9));
    const mirrored = mirrorShape(face);
    // The layout is symmetric to ~1e-3 of its width (0.1 mm here).
    mirrored.forEach((v, c) => expect(Math.abs(v - face[c])).toBeLessThan(0.5));
  });

  it('halves an asymmetric displacement of one side', () => {
    const face = symmetricFace();
    const bumped = Float64Array.from(face);
    const vertex = FACEMESH_MIRROR.findIndex((m, i) => m !== i);
    bumped[vertex * 3 + 2] += 10;
    const sym = symmetriseShape(bumped);
    expect(sym[vertex * 3 + 2] - face[vertex * 3 + 2]).toBeCloseTo(5, 0);
    const twin = FACEMESH_MIRROR[vertex];
    expect(sym[twin * 3 + 2] - face[twin * 3 + 2]).toBeCloseTo(5, 0);
  });

  it("fills texels the photo hid with their mirror twin's colour", () => {
    const size = 2;
    const sample = { texture: Float32Array.of(10, 10, 10, 50, 50, 50, 0, 0, 0, 0, 0, 0), visibility: Float32Array.of(1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1) };
    const sym = symmetriseTexture(sample, size);
    expect(Array.from(sym.texture.subarray(0, 6))).toEqual([10, 10, 10, 10, 10, 10]);
    expect(sym.visibility[3]).toBe(1);
  });
});
