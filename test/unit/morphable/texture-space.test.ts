import { describe, expect, it } from '@jest/globals';
import { downsampleTexture, poolTextures } from '../../../src/morphable/texture-space.js';

describe('texture space', () => {
  it('averages visible texels per block and records how much of each block was seen', () => {
    const texture = new Uint8Array(4 * 4 * 3);
    const mask = new Uint8Array(16);
    // Top-left 2x2 block: two visible texels of 100 and 200.
    texture.set([100, 100, 100], 0);
    texture.set([200, 200, 200], 3);
    mask[0] = mask[1] = 1;
    const { texture: small, visibility } = downsampleTexture(texture, mask, 4, 2);
    expect(Array.from(small.subarray(0, 3))).toEqual([150, 150, 150]);
    expect(visibility[0]).toBe(0.5);
    expect(visibility[3]).toBe(0);
  });

  it('pools per texel by visibility and confidence, falling back where nothing was seen', () => {
    const a = { texture: Float32Array.of(10, 20), visibility: Float32Array.of(1, 0) };
    const b = { texture: Float32Array.of(30, 40), visibility: Float32Array.of(1, 0) };
    expect(Array.from(poolTextures([a, b], [3, 1], [0, 99]))).toEqual([15, 99]);
  });
});
