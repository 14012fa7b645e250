/**
 * MediaPipe FaceMesh (468 points) to the 68-point Multi-PIE markup that dlib, 300-W and the
 * ICT-FaceKit `landmarks68` use (point 0 on the subject's right jaw, 36 the right eye's outer
 * corner, 48 the right mouth corner). The correspondence is Peizhi Yan's widely used
 * MediaPipe-to-dlib table (github.com/PeizhiYan/Mediapipe_2_Dlib_Landmarks, 2024): each markup
 * point is one FaceMesh vertex or the midpoint of two.
 */
import type { FloatArray } from '../core/linear-algebra.js';

type Source = readonly [number] | readonly [number, number];

export const FACEMESH_TO_DLIB68: readonly Source[] = [
  // Jaw line 0-16, subject's right ear to left ear.
  [127], [234], [93], [132, 58], [58, 172], [136], [150], [176], [152], [400], [379], [365], [397, 288], [361], [323], [454], [356],
  // Right brow 17-21, left brow 22-26 (outer to inner, inner to outer).
  [70], [63], [105], [66], [107], [336], [296], [334], [293], [300],
  // Nose bridge 27-30, nostrils 31-35.
  [168, 6], [197, 195], [5], [4], [75], [97], [2], [326], [305],
  // Right eye 36-41, left eye 42-47 (from the outer/inner corner, clockwise in the image).
  [33], [160], [158], [133], [153], [144], [362], [385], [387], [263], [373], [380],
  // Outer lip 48-59, inner lip 60-67.
  [61], [39], [37], [0], [267], [269], [291], [321], [314], [17], [84], [91],
  [78], [82], [13], [312], [308], [317], [14], [87],
];

/** Named ranges of the 68-point markup, for per-region reports. */
export const DLIB68_REGIONS: Readonly<Record<string, readonly [number, number]>> = {
  jaw: [0, 17],
  brows: [17, 27],
  nose: [27, 36],
  eyes: [36, 48],
  mouth: [48, 68],
};

/** The 68 markup points (flat xyz) from FaceMesh's 468 (flat xyz, any frame). */
export function facemeshToDlib68(points: FloatArray): Float64Array {
  const out = new Float64Array(68 * 3);
  FACEMESH_TO_DLIB68.forEach((source, i) => {
    for (const v of source) for (let a = 0; a < 3; a++) out[3 * i + a] += points[3 * v + a] / source.length;
  });
  return out;
}
