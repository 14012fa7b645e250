/** Deterministic image-like inputs (smooth shading, edges, noise) for parity checks and timing. */
import { mulberry32 } from '../../src/training/random.js';

/**
 * NHWC batch whose pixels span `range`: per image a random colour gradient, a bright disc with a
 * hard edge and 10% noise, so activations look like those of a photo rather than white noise.
 */
export function syntheticImages(shape: readonly [number, number, number, number], range: readonly [number, number], seed: number): Float32Array {
  const [batch, height, width, channels] = shape;
  const random = mulberry32(seed);
  const [low, high] = range;
  const out = new Float32Array(batch * height * width * channels);
  for (let b = 0; b < batch; b++) {
    const base = Array.from({ length: channels }, () => random());
    const slope = Array.from({ length: channels }, () => random() - 0.5);
    const disc = { x: random() * width, y: random() * height, r: (0.2 + 0.3 * random()) * Math.min(width, height) };
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const inDisc = (x - disc.x) ** 2 + (y - disc.y) ** 2 < disc.r ** 2;
        for (let c = 0; c < channels; c++) {
          const shade = base[c] + slope[c] * (x / width - y / height) + (inDisc ? 0.3 : 0) + 0.1 * (random() - 0.5);
          const unit = Math.min(1, Math.max(0, shade));
          out[((b * height + y) * width + x) * channels + c] = low + unit * (high - low);
        }
      }
    }
  }
  return out;
}
