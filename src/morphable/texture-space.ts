/**
 * The texture model's resolution is coarser than the extraction's UV warp: a 468-vertex mesh
 * carries no detail finer than 64 texels across, and a 4x smaller basis keeps the bundle small.
 */
export interface TextureSample {
  /** size x size x 3, 0..255. */
  readonly texture: Float32Array;
  /** size x size x 3 weights in 0..1 (one per texel channel, so it can weight a least-squares fit). */
  readonly visibility: Float32Array;
}

/** Averages `factor` x `factor` blocks of visible texels; a block counts as seen in proportion to its visible texels. */
export function downsampleTexture(texture: Uint8Array, mask: Uint8Array, size: number, factor: number): TextureSample {
  const outSize = size / factor;
  if (!Number.isInteger(outSize)) throw new RangeError(`texture size ${size} is not a multiple of ${factor}`);
  const out = new Float32Array(outSize * outSize * 3);
  const visibility = new Float32Array(outSize * outSize * 3);
  for (let y = 0; y < outSize; y++) {
    for (let x = 0; x < outSize; x++) {
      let seen = 0;
      const sum = [0, 0, 0];
      for (let dy = 0; dy < factor; dy++) {
        for (let dx = 0; dx < factor; dx++) {
          const i = (y * factor + dy) * size + (x * factor + dx);
          if (!mask[i]) continue;
          seen++;
          for (let c = 0; c < 3; c++) sum[c] += texture[i * 3 + c];
        }
      }
      const o = (y * outSize + x) * 3;
      const share = seen / (factor * factor);
      for (let c = 0; c < 3; c++) {
        out[o + c] = seen > 0 ? sum[c] / seen : 0;
        visibility[o + c] = share;
      }
    }
  }
  return { texture: out, visibility };
}

/**
 * Per-texel weighted mean of several textures, each texel weighted by its visibility times the
 * photo's confidence; texels no photo shows take `fallback` (the population mean).
 */
export function poolTextures(samples: readonly TextureSample[], confidences: ArrayLike<number>, fallback: ArrayLike<number>): Float32Array {
  const d = fallback.length;
  const sum = new Float64Array(d);
  const weight = new Float64Array(d);
  samples.forEach((sample, i) => {
    const w = confidences[i];
    for (let c = 0; c < d; c++) {
      const v = sample.visibility[c] * w;
      sum[c] += v * sample.texture[c];
      weight[c] += v;
    }
  });
  return Float32Array.from(sum, (s, c) => (weight[c] > 1e-6 ? s / weight[c] : fallback[c]));
}
