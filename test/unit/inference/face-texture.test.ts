import { describe, expect, it } from '@jest/globals';

import { facingWeights, photoTexture } from '../../../src/inference/face-texture.js';
import { FACEMESH_UVS, FACEMESH_VERTEX_COUNT } from '../../../src/morphable/facemesh-topology.js';
import { patternImage, uvGradient } from '../../helpers/mesh-fixtures.js';

const SIZE = 256;

/** Landmarks of a photo that is the UV layout itself, facing the camera (z = 0) or turned about the vertical by `degrees`. */
const layoutLandmarks = (degrees = 0) =>
  Float32Array.from({ length: FACEMESH_VERTEX_COUNT * 3 }, (_, k) => {
    const x = FACEMESH_UVS[2 * Math.floor(k / 3)] * SIZE;
    return k % 3 === 2 ? x * Math.tan((degrees * Math.PI) / 180) : FACEMESH_UVS[2 * Math.floor(k / 3) + (k % 3)] * SIZE;
  });
const grey = { width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE * 3).fill(128) };
const texelAt = (u: number, v: number) => 3 * (Math.floor(v * SIZE) * SIZE + Math.floor(u * SIZE));

describe('photoTexture', () => {
  it('takes the face from the photo at full size and the rest from the model', () => {
    const texture = photoTexture([{ image: patternImage(SIZE, uvGradient), landmarks: layoutLandmarks() }], grey);
    expect([texture.width, texture.height]).toEqual([SIZE, SIZE]);
    const nose = texelAt(0.5, 0.55);
    const expected = uvGradient((Math.floor(0.5 * SIZE) + 0.5) / SIZE, (Math.floor(0.55 * SIZE) + 0.5) / SIZE);
    // The photo at 1, the model at 0.05.
    for (let c = 0; c < 3; c++) expect(Math.abs(texture.data[nose + c] - (expected[c] + 0.05 * 128) / 1.05)).toBeLessThanOrEqual(2);
    expect(Array.from(texture.data.subarray(0, 3))).toEqual([128, 128, 128]);
  });

  it('weighs each texel by how squarely the photo sees it: cos² of the surface\'s turn', () => {
    expect(facingWeights(layoutLandmarks(), SIZE)[texelAt(0.5, 0.55) / 3]).toBeCloseTo(1, 6);
    expect(facingWeights(layoutLandmarks(60), SIZE)[texelAt(0.5, 0.55) / 3]).toBeCloseTo(0.25, 5);
    const white = patternImage(SIZE, () => [255, 255, 255]);
    const black = patternImage(SIZE, () => [0, 0, 0]);
    const texture = photoTexture([{ image: white, landmarks: layoutLandmarks() }, { image: black, landmarks: layoutLandmarks(60) }], grey);
    expect(texture.data[texelAt(0.5, 0.55)]).toBe(Math.round((255 * 1 + 0 * 0.25 + 128 * 0.05) / 1.3));
  });

  it('is the model\'s texture when there is no photo', () => {
    expect(photoTexture([], grey).data).toEqual(grey.data);
  });
});
