import { describe, expect, it } from '@jest/globals';
import { readSeedPreprocessing, seedNetworkInput, seedPreprocessing, seedRegion, SEED_BOX_EXPANSION } from '../../../src/inference/seed-input.js';

describe("the CNN3DMM release's preprocessing", () => {
  it("expands the box as utils.py's cropImg does (square, asymmetric, in half-sides of the longer edge)", () => {
    const box = { x: 100, y: 50, width: 60, height: 80 };
    const region = seedRegion(box, 'landmarks');
    // cropImg: cx = l + w/2, cy = t + h/2, tsize = max(w, h)/2, then l' = cx − 1.9255·tsize ... b' = cy + 1.6087·tsize.
    const [cx, cy, t] = [130, 90, 40];
    const [left, top, right, bottom] = [cx - 1.9255 * t, cy - 2.2591 * t, cx + 1.9423 * t, cy + 1.6087 * t];
    expect(region.side).toBeCloseTo(right - left, 9);
    expect(right - left).toBeCloseTo(bottom - top, 9); // the seed's factors make a square
    expect(region.centerX).toBeCloseTo((left + right) / 2, 9);
    expect(region.centerY).toBeCloseTo((top + bottom) / 2, 9);
    expect(seedRegion(box, 'detector').side).toBeCloseTo((1.785974 + 1.8356) * t, 9);
  });

  it('makes an NCHW BGR tensor of raw pixels, zero outside the photo, minus the mean when asked', () => {
    // RGB (10, 20, 30) everywhere; the expanded box overhangs the photo's left and top edges.
    const image = { width: 40, height: 40, data: new Uint8Array(40 * 40 * 3).map((_, i) => [10, 20, 30][i % 3]) };
    const box = { x: 2, y: 2, width: 16, height: 16 };
    const size = 8;
    const plane = size * size;
    const input = seedNetworkInput(image, box, { source: 'landmarks', size });
    expect(input).toHaveLength(3 * plane);
    const centre = (size / 2) * size + size / 2;
    expect([input[centre], input[plane + centre], input[2 * plane + centre]]).toEqual([30, 20, 10]);
    expect([input[0], input[plane], input[2 * plane]]).toEqual([0, 0, 0]);
    const centred = seedNetworkInput(image, box, { source: 'landmarks', size, mean: Float32Array.of(1, 2, 3) });
    expect([centred[centre], centred[plane + centre], centred[2 * plane + centre]]).toEqual([29, 18, 7]);
    expect(centred[0]).toBe(-1);
    expect(() => seedNetworkInput(image, box, { source: 'landmarks', size, mean: new Float32Array(5) })).toThrow(RangeError);
  });

  it('is recorded in and read back from a bundle manifest', () => {
    const recorded = JSON.parse(JSON.stringify(seedPreprocessing(true))) as Record<string, unknown>;
    expect(readSeedPreprocessing(recorded)).toMatchObject({ kind: 'cnn3dmm', inputSize: 224, boxExpansion: SEED_BOX_EXPANSION });
    expect(readSeedPreprocessing({ identityFraming: {}, featureNetwork: 'faceres' })).toBeUndefined();
  });
});
