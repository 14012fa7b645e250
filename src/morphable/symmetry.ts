/**
 * Left-right symmetry as a prior for per-person labels: faces are close to mirror-symmetric, while
 * landmark errors and lighting are not (a turned head's far side is guessed, a side light darkens
 * one cheek). Averaging a face with its mirror image keeps the person and halves that noise.
 */
import { FACEMESH_MIRROR } from './facemesh-topology.js';
import { alignSimilarity } from './procrustes.js';
import type { TextureSample } from './texture-space.js';
import type { FloatArray } from '../core/linear-algebra.js';

/** The shape reflected (x → −x) with left and right vertices swapped, so vertex i stays vertex i. */
export function mirrorShape(points: FloatArray): Float64Array {
  const out = new Float64Array(points.length);
  for (let i = 0; i < points.length / 3; i++) {
    const m = FACEMESH_MIRROR[i] * 3;
    out[i * 3] = -points[m];
    out[i * 3 + 1] = points[m + 1];
    out[i * 3 + 2] = points[m + 2];
  }
  return out;
}

/** Mean of the shape and its mirror image aligned onto it (so any frame works, not only x = 0 symmetric). */
export function symmetriseShape(points: FloatArray): Float64Array {
  const mirrored = alignSimilarity(mirrorShape(points), points).aligned;
  return Float64Array.from(points, (v, c) => (v + mirrored[c]) / 2);
}

/**
 * The texture averaged with its horizontal flip (the FaceMesh UV layout is mirror-symmetric about
 * u = 0.5), each side weighted by how well the photo showed it: a texel hidden in a profile photo
 * takes its mirror twin's colour.
 */
export function symmetriseTexture(sample: TextureSample, size: number): TextureSample {
  const texture = new Float32Array(sample.texture.length);
  const visibility = new Float32Array(sample.visibility.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      const j = (y * size + (size - 1 - x)) * 3;
      for (let c = 0; c < 3; c++) {
        const wa = sample.visibility[i + c];
        const wb = sample.visibility[j + c];
        const total = wa + wb;
        texture[i + c] = total > 0 ? (wa * sample.texture[i + c] + wb * sample.texture[j + c]) / total : 0;
        visibility[i + c] = Math.min(1, total);
      }
    }
  }
  return { texture, visibility };
}
