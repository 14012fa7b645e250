import { describe, expect, it } from '@jest/globals';

import { Face3dError } from '../../../src/core/errors.js';
import { projectToScreen, renderMesh } from '../../../src/mesh/render.js';
import { FACEMESH_UVS, FACEMESH_VERTEX_COUNT } from '../../../src/morphable/facemesh-topology.js';
import { warpToUv } from '../../../src/morphable/uv-warp.js';
import { facemeshDome, patternImage, uvGradient } from '../../helpers/mesh-fixtures.js';

const SIZE = 128;

/** Per masked texel, the largest channel difference from the pattern at the texel centre. */
function errorsAgainstPattern(
  result: { texture: Uint8Array; mask: Uint8Array },
  pattern: (u: number, v: number) => readonly number[],
): number[] {
  const errors: number[] = [];
  for (let ty = 0; ty < SIZE; ty++) {
    for (let tx = 0; tx < SIZE; tx++) {
      const texel = ty * SIZE + tx;
      if (!result.mask[texel]) continue;
      const expected = pattern((tx + 0.5) / SIZE, (ty + 0.5) / SIZE);
      errors.push(Math.max(...[0, 1, 2].map((c) => Math.abs(result.texture[3 * texel + c] - expected[c]))));
    }
  }
  return errors;
}

const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
const count = (mask: Uint8Array): number => mask.reduce((sum, value) => sum + value, 0);

/** Landmarks where a photo of `size` pixels shows the UV layout under x -> A x + t. */
function layoutPoints(size: number, affine: readonly number[] = [1, 0, 0, 1, 0, 0]): Float32Array {
  const [a, b, c, d, tx, ty] = affine;
  return Float32Array.from({ length: FACEMESH_VERTEX_COUNT * 2 }, (_, k) => {
    const i = k >> 1;
    const x = FACEMESH_UVS[2 * i] * size;
    const y = FACEMESH_UVS[2 * i + 1] * size;
    return k % 2 === 0 ? a * x + b * y + tx : c * x + d * y + ty;
  });
}

describe('warpToUv', () => {
  it('reproduces the pattern of a photo that is the UV layout itself', () => {
    const image = patternImage(SIZE, uvGradient);
    const result = warpToUv(image, layoutPoints(SIZE));
    const errors = errorsAgainstPattern(result, uvGradient);
    // The face covers roughly 60% of the layout square.
    expect(count(result.mask)).toBeGreaterThan(0.5 * SIZE * SIZE);
    expect(Math.max(...errors)).toBeLessThanOrEqual(1);
  });

  it('undoes a rotation, scaling and shift of the face in the photo', () => {
    const photoSize = 300;
    const angle = (25 * Math.PI) / 180;
    const zoom = 1.6;
    const affine = [zoom * Math.cos(angle), -zoom * Math.sin(angle), zoom * Math.sin(angle), zoom * Math.cos(angle), 90, 10];
    // Paint each photo pixel with the pattern at the layout position it came from.
    const det = affine[0] * affine[3] - affine[1] * affine[2];
    const image = patternImage(photoSize, (pu, pv) => {
      const x = pu * photoSize - affine[4];
      const y = pv * photoSize - affine[5];
      const lx = (affine[3] * x - affine[1] * y) / det;
      const ly = (-affine[2] * x + affine[0] * y) / det;
      return uvGradient(lx / SIZE, ly / SIZE);
    });
    const result = warpToUv(image, layoutPoints(SIZE, affine));
    const errors = errorsAgainstPattern(result, uvGradient);
    expect(count(result.mask)).toBeGreaterThan(0.5 * SIZE * SIZE);
    expect(mean(errors)).toBeLessThan(1);
    expect(Math.max(...errors)).toBeLessThanOrEqual(2);
  });

  it('leaves texels outside the face unmasked and black, and the face without cracks', () => {
    const result = warpToUv(patternImage(SIZE, uvGradient), layoutPoints(SIZE));
    expect(result.mask[0]).toBe(0);
    expect(Array.from(result.texture.subarray(0, 3))).toEqual([0, 0, 0]);
    const noseTexel = Math.floor(0.55 * SIZE) * SIZE + Math.floor(0.5 * SIZE);
    expect(result.mask[noseTexel]).toBe(1);
    let cracks = 0;
    for (let y = 1; y < SIZE - 1; y++) {
      for (let x = 1; x < SIZE - 1; x++) {
        const at = y * SIZE + x;
        const surrounded = result.mask[at - 1] && result.mask[at + 1] && result.mask[at - SIZE] && result.mask[at + SIZE];
        if (!result.mask[at] && surrounded) cracks++;
      }
    }
    expect(cracks).toBe(0);
  });

  it('masks texels whose photo position falls outside the photo', () => {
    const shifted = layoutPoints(SIZE, [1, 0, 0, 1, -SIZE / 2, 0]);
    const result = warpToUv(patternImage(SIZE, uvGradient), shifted);
    const leftHalf = (texel: number): boolean => texel % SIZE < SIZE / 2 - 1;
    expect(result.mask.filter((value, texel) => value === 1 && leftHalf(texel))).toHaveLength(0);
    expect(count(result.mask)).toBeGreaterThan(0.2 * SIZE * SIZE);
  });

  it('drops every triangle when all of them face away from the camera', () => {
    // Mirroring x turns every triangle around: the camera now sees the back of the surface.
    const mirrored2d = layoutPoints(SIZE, [-1, 0, 0, 1, SIZE, 0]);
    const mirrored3d = Float32Array.from({ length: FACEMESH_VERTEX_COUNT * 3 }, (_, k) =>
      k % 3 === 2 ? 0 : mirrored2d[2 * Math.floor(k / 3) + (k % 3)],
    );
    const image = patternImage(SIZE, uvGradient);
    expect(count(warpToUv(image, mirrored2d).mask)).toBeGreaterThan(0.5 * SIZE * SIZE);
    expect(count(warpToUv(image, mirrored2d, SIZE, mirrored3d).mask)).toBe(0);
  });

  it('with depth, recovers the texture of a turned face from its rendering and hides what the nose covers', () => {
    const face = { ...facemeshDome(0.5), texture: patternImage(SIZE, uvGradient) };
    const view = { width: 256, height: 256, yawDeg: 40 };
    const photo = renderMesh(face, { ...view, mode: 'textured', ambient: 1 });
    const screen = projectToScreen(face, view);
    const points2d = Float32Array.from({ length: FACEMESH_VERTEX_COUNT * 2 }, (_, k) => screen[3 * (k >> 1) + (k % 2)]);
    // Renderer depth grows towards the viewer, MediaPipe z shrinks towards the camera.
    const points3d = screen.map((value, k) => (k % 3 === 2 ? -value : value));

    const withDepth = warpToUv(photo, points2d, SIZE, points3d);
    // Equal depths everywhere: back faces are still dropped, but nothing can hide anything.
    const flat = points3d.map((value, k) => (k % 3 === 2 ? 0 : value));
    const facingOnly = warpToUv(photo, points2d, SIZE, flat);
    const occluded = facingOnly.mask.map((value, texel) => (value && !withDepth.mask[texel] ? 1 : 0));
    const errorsWithDepth = errorsAgainstPattern(withDepth, uvGradient);
    const errorsOccluded = errorsAgainstPattern({ texture: facingOnly.texture, mask: occluded }, uvGradient);
    const sorted = [...errorsWithDepth].sort((a, b) => a - b);
    const wrongShare = (errors: number[]): number => errors.filter((error) => error > 20).length / errors.length;

    expect(count(withDepth.mask)).toBeGreaterThan(0.3 * SIZE * SIZE);
    expect(count(occluded)).toBeGreaterThan(100);
    // The texels the nose covers would carry the nose's colours...
    expect(mean(errorsOccluded)).toBeGreaterThan(15);
    // ...while what is kept matches, except a rim along silhouettes where pixels mix two surfaces.
    expect(sorted[Math.floor(0.95 * sorted.length)]).toBeLessThan(2);
    expect(wrongShare(errorsWithDepth)).toBeLessThan(0.02);
    expect(wrongShare(errorsAgainstPattern(facingOnly, uvGradient))).toBeGreaterThan(0.025);
  });

  it('rejects landmark arrays of the wrong length and bad sizes', () => {
    const image = patternImage(8, uvGradient);
    expect(() => warpToUv(image, new Float32Array(10))).toThrow(Face3dError);
    expect(() => warpToUv(image, layoutPoints(8), 8, new Float32Array(5))).toThrow(Face3dError);
    expect(() => warpToUv(image, layoutPoints(8), 0)).toThrow(Face3dError);
  });
});
