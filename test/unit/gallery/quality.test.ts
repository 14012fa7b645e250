import { describe, expect, it } from '@jest/globals';
import { assessQuality, measureQuality, refusedFor, type QualityMeasures } from '../../../src/gallery/quality.js';
import { templateWeight } from '../../../src/core/vector.js';
import type { RgbImage } from '../../../src/core/image.js';

const GOOD: QualityMeasures = { eyeDistance: 60, yaw: 5, pitch: -13, sharpness: 150, brightness: 120, eyeOpenness: 0.3, otherFaceSize: 0 };

/** 468 landmarks, all at the image centre except the eyes: corners `eyeDistance` apart, lids `gap` × eye width apart. */
function landmarks(eyeDistance: number, gap: number): Float32Array {
  const points = new Float32Array(468 * 3).fill(100);
  const set = (index: number, x: number, y: number) => points.set([x, y, 0], index * 3);
  const eyeWidth = eyeDistance / 3;
  const [left, right] = [100 - eyeDistance / 2, 100 + eyeDistance / 2];
  // Right eye of the person (left in the image): outer 33, inner 133, lids 159 / 145.
  set(33, left, 80);
  set(133, left + eyeWidth, 80);
  set(159, left + eyeWidth / 2, 80 - (gap * eyeWidth) / 2);
  set(145, left + eyeWidth / 2, 80 + (gap * eyeWidth) / 2);
  set(263, right, 80);
  set(362, right - eyeWidth, 80);
  set(386, right - eyeWidth / 2, 80 - (gap * eyeWidth) / 2);
  set(374, right - eyeWidth / 2, 80 + (gap * eyeWidth) / 2);
  return points;
}

function image(pixel: (x: number, y: number) => number): RgbImage {
  const data = new Uint8Array(200 * 200 * 3);
  for (let y = 0; y < 200; y++) for (let x = 0; x < 200; x++) data.fill(pixel(x, y), (y * 200 + x) * 3, (y * 200 + x) * 3 + 3);
  return { data, width: 200, height: 200 };
}

const face = (eyeDistance: number, gap: number) => ({ box: { x: 50, y: 50, width: 100, height: 100 }, landmarks: { points: landmarks(eyeDistance, gap) }, pose: { yaw: 10, pitch: 4, roll: 0 } });

describe('quality measures on an image', () => {
  it('read sharpness and brightness from the face, eye openness from the lids, other faces relative to this one', () => {
    const checkerboard = image((x, y) => ((x >> 1) + (y >> 1)) % 2 === 0 ? 40 : 200);
    const sharp = measureQuality(checkerboard, face(60, 0.3), [{ x: 0, y: 0, width: 70, height: 70 }]);
    expect(sharp.eyeDistance).toBeCloseTo(60, 4);
    expect(sharp.eyeOpenness).toBeCloseTo(0.3, 4);
    expect(sharp.brightness).toBeGreaterThan(100);
    expect(sharp.brightness).toBeLessThan(140);
    expect(sharp.sharpness).toBeGreaterThan(1000);
    expect(sharp.otherFaceSize).toBeCloseTo(0.7, 6);
    expect([sharp.yaw, sharp.pitch]).toEqual([10, 4]);
    const flat = measureQuality(image(() => 10), face(60, 0.02));
    expect(flat.sharpness).toBeCloseTo(0, 6);
    expect(flat.brightness).toBeCloseTo(10, 4);
    expect(flat.eyeOpenness).toBeCloseTo(0.02, 4);
    expect(flat.otherFaceSize).toBe(0);
  });
});

describe('quality assessment', () => {
  it('gives a good face score 1 and no issue', () => {
    expect(assessQuality(GOOD)).toEqual({ score: 1, issues: [], harmful: [] });
  });

  it('names each issue, worst first, and marks those past their harmful level (measured on LFW train people)', () => {
    const cases: [Partial<QualityMeasures>, string, boolean][] = [
      [{ eyeDistance: 25 }, 'FACE_TOO_SMALL', false],
      [{ eyeDistance: 15 }, 'FACE_TOO_SMALL', false],
      [{ eyeDistance: 13 }, 'FACE_TOO_SMALL', true],
      [{ eyeDistance: 10 }, 'FACE_TOO_SMALL', true],
      [{ yaw: -45 }, 'POSE_YAW', false],
      [{ yaw: 90 }, 'POSE_YAW', false],
      [{ pitch: 20 }, 'POSE_PITCH', false],
      [{ pitch: -40 }, 'POSE_PITCH', false],
      // No train photo is tilted this far, so no harm could be measured: weighted, never refused by AUTO.
      [{ pitch: -65 }, 'POSE_PITCH', false],
      [{ sharpness: 20 }, 'BLURRY', false],
      [{ sharpness: 7 }, 'BLURRY', false],
      [{ sharpness: 5 }, 'BLURRY', true],
      [{ brightness: 30 }, 'TOO_DARK', false],
      [{ brightness: 12 }, 'TOO_DARK', false],
      [{ brightness: 8 }, 'TOO_DARK', true],
      [{ brightness: 220 }, 'TOO_BRIGHT', false],
      [{ brightness: 230 }, 'TOO_BRIGHT', true],
      [{ brightness: 250 }, 'TOO_BRIGHT', true],
      [{ eyeOpenness: 0.02 }, 'EYES_CLOSED', false],
      [{ otherFaceSize: 0.7 }, 'SEVERAL_FACES', false],
      [{ otherFaceSize: 0.95 }, 'SEVERAL_FACES', true],
      [{ otherFaceSize: 1.2 }, 'SEVERAL_FACES', true],
    ];
    for (const [change, issue, harmful] of cases) {
      const quality = assessQuality({ ...GOOD, ...change });
      expect({ change, issues: quality.issues, harmful: quality.harmful }).toEqual({ change, issues: [issue], harmful: harmful ? [issue] : [] });
      expect(quality.score).toBeLessThan(1);
      expect(quality.score).toBeGreaterThan(0);
    }
    const both = assessQuality({ ...GOOD, sharpness: 2, eyeOpenness: 0.02 });
    expect(both.issues).toEqual(['BLURRY', 'EYES_CLOSED']);
    expect(both.score).toBeCloseTo(0.2 * 0.7, 10);
  });

  it('refuses by filter: NONE nothing, AUTO what harms a template, HIGH any issue', () => {
    const closedEyes = assessQuality({ ...GOOD, eyeOpenness: 0.02 });
    const blurred = assessQuality({ ...GOOD, sharpness: 2, eyeOpenness: 0.02 });
    expect([refusedFor('NONE', blurred), refusedFor('AUTO', closedEyes), refusedFor('AUTO', blurred), refusedFor('HIGH', closedEyes)]).toEqual([[], [], ['BLURRY'], ['EYES_CLOSED']]);
  });

  it('weights a face in its template by its score, never by zero, and a face without one fully', () => {
    expect([templateWeight(0.6), templateWeight(0), templateWeight(null), templateWeight(undefined)]).toEqual([0.6, 0.05, 1, 1]);
  });
});
