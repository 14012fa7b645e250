import { describe, expect, it } from '@jest/globals';

import { photoTexture } from '../../src/inference/face-texture.js';
import { FACEMESH_UVS, FACEMESH_VERTEX_COUNT } from '../../src/morphable/facemesh-topology.js';
import { patternImage, uvGradient } from '../helpers/mesh-fixtures.js';

const SIZE = 256;

/** Landmarks of a photo that is the UV layout itself, flat (z = 0). */
const layoutLandmarks = Float32Array.from({ length: FACEMESH_VERTEX_COUNT * 3 }, (_, k) => (k % 3 === 2 ? 0 : FACEMESH_UVS[2 * Math.floor(k / 3) + (k % 3)] * SIZE));
const grey = { width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE * 3).fill(128) };
const texelAt = (u: number, v: number) => 3 * (Math.floor(v * SIZE) * SIZE + Math.floor(u * SIZE));

describe('photoTexture', () => {
  it('takes the face from the photo at full size and the rest from the model', () => {
    const texture = photoTexture([{ image: patternImage(SIZE, uvGradient), landmarks: layoutLandmarks, yaw: 0 }], grey);
    expect([texture.width, texture.height]).toEqual([SIZE, SIZE]);
    const nose = texelAt(0.5, 0.55);
    const expected = uvGradient((Math.floor(0.5 * SIZE) + 0.5) / SIZE, (Math.floor(0.55 * SIZE) + 0.5) / SIZE);
    for (let c = 0; c < 3; c++) expect(Math.abs(texture.data[nose + c] - expected[c])).toBeLessThanOrEqual(2);
    expect(Array.from(texture.data.subarray(0, 3))).toEqual([128, 128, 128]);
  });

  it('weighs photos as pooled fits are: a frontal one four times one turned 60°', () => {
    const white = patternImage(SIZE, () => [255, 255, 255]);
    const black = patternImage(SIZE, () => [0, 0, 0]);
    const texture = photoTexture([{ image: white, landmarks: layoutLandmarks, yaw: 0 }, { image: black, landmarks: layoutLandmarks, yaw: 60 }], grey);
    expect(texture.data[texelAt(0.5, 0.55)]).toBe(Math.round((255 * 1) / 1.25));
  });

  it('is the model\'s texture when there is no photo', () => {
    expect(photoTexture([], grey).data).toEqual(grey.data);
  });
});
