import type { Box, RgbImage } from '../core/image.js';

/**
 * A square region of a photo, possibly rotated about its centre: the unit every network input is
 * cut from. `angle` (radians, counter-clockwise in image coordinates) levels a tilted face.
 */
export interface SquareRegion {
  readonly centerX: number;
  readonly centerY: number;
  readonly side: number;
  readonly angle: number;
}

/** Expansion of a face box, in half-sides of the box, towards each edge (the seed's crop scheme). */
export interface BoxExpansion {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

export function boxCenter(box: Box): { x: number; y: number } {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/**
 * The seed's alignment (Tran et al.): make the box square around its centre, then move each edge
 * outwards by a factor of the half-side. Asymmetric factors keep the chin and forehead in view.
 */
export function expandToSquare(box: Box, expansion: BoxExpansion): SquareRegion {
  const { x: cx, y: cy } = boxCenter(box);
  const half = Math.max(box.width, box.height) / 2;
  const left = cx - expansion.left * half;
  const right = cx + expansion.right * half;
  const top = cy - expansion.top * half;
  const bottom = cy + expansion.bottom * half;
  const side = Math.max(right - left, bottom - top);
  return { centerX: (left + right) / 2, centerY: (top + bottom) / 2, side, angle: 0 };
}

/** A region covering the whole photo, padded to a square: used when the caller says the photo is the face. */
export function wholeImageRegion(width: number, height: number): SquareRegion {
  return { centerX: width / 2, centerY: height / 2, side: Math.max(width, height), angle: 0 };
}

/** Maps a point of an output crop of `size` pixels back to photo coordinates. */
export function cropToImage(region: SquareRegion, size: number, u: number, v: number): { x: number; y: number } {
  const scale = region.side / size;
  const dx = (u - size / 2) * scale;
  const dy = (v - size / 2) * scale;
  const cos = Math.cos(region.angle);
  const sin = Math.sin(region.angle);
  return { x: region.centerX + cos * dx - sin * dy, y: region.centerY + sin * dx + cos * dy };
}

/** A linear map of sampled values (v × scale + offset), applied as the crop is written. */
export interface ValueMap {
  readonly scale: number;
  readonly offset: number;
}

const IDENTITY_VALUES: ValueMap = { scale: 1, offset: 0 };

/**
 * How a crop is written for a network that reads it directly: channel order, layout, mirroring and
 * normalisation, so one pass over the photo produces the tensor (no transposed or mirrored copies).
 */
export interface NetworkInputLayout {
  /** `hwc` interleaved pixels, `chw` one plane per channel. */
  readonly layout: 'hwc' | 'chw';
  /** `bgr` feeds blue first. */
  readonly channels: 'rgb' | 'bgr';
  /** Values are (sample as float32 − mean[c]) × scale, c the output channel. */
  readonly mean: readonly [number, number, number];
  readonly scale: number;
  /** The mirror image of the crop (left to right), for test-time flipping. */
  readonly mirrored: boolean;
}

/** Everything the sampling loop needs to place and transform each value; see sampleInto. */
interface WritePlan {
  /** Output index step between neighbouring pixels and between a pixel's channels. */
  readonly pixelStride: number;
  readonly channelStride: number;
  /** Photo channel (0 R, 1 G, 2 B) each output channel reads. */
  readonly sources: readonly [number, number, number];
  readonly mirrored: boolean;
  /** Round the sample to float32 before the map: the value a float32 HWC crop would have held. */
  readonly roundFirst: boolean;
  readonly mean: readonly [number, number, number];
  readonly scale: number;
  readonly offset: number;
}

function outputArray(size: number, out: Float32Array | undefined): Float32Array {
  if (out === undefined) return new Float32Array(size * size * 3);
  if (out.length !== size * size * 3) throw new RangeError(`a ${size}x${size} crop has ${size * size * 3} values, the array given ${out.length}`);
  return out;
}

/**
 * Samples `region` into a size x size RGB crop (HWC, float 0..255, or mapped by `values` to what a
 * network reads) with bilinear interpolation. Pixels outside the photo are zero (before the map),
 * as in the seed's preprocessing, so borders never smear. `into`: the array to write (every value
 * is written), instead of a new one.
 */
export function sampleRegion(image: RgbImage, region: SquareRegion, size: number, values: ValueMap = IDENTITY_VALUES, into?: Float32Array): Float32Array {
  const out = outputArray(size, into);
  sampleInto(image, region, size, out, {
    pixelStride: 3, channelStride: 1, sources: [0, 1, 2], mirrored: false, roundFirst: false, mean: [0, 0, 0], scale: values.scale, offset: values.offset,
  });
  return out;
}

/**
 * `region` sampled as sampleRegion does, then laid out and normalised as `input` says, in one pass:
 * every value equals the one computed from sampleRegion's float32 HWC crop. `into` as sampleRegion's.
 */
export function sampleNetworkInput(image: RgbImage, region: SquareRegion, size: number, input: NetworkInputLayout, into?: Float32Array): Float32Array {
  const out = outputArray(size, into);
  const planar = input.layout === 'chw';
  sampleInto(image, region, size, out, {
    pixelStride: planar ? 1 : 3,
    channelStride: planar ? size * size : 1,
    sources: input.channels === 'rgb' ? [0, 1, 2] : [2, 1, 0],
    mirrored: input.mirrored,
    roundFirst: true,
    mean: input.mean,
    scale: input.scale,
    offset: 0,
  });
  return out;
}

/**
 * The bilinear sampler behind every network input, written for speed: the four taps are read
 * directly wherever all lie inside the photo (all but a border one pixel wide), the per-tap checks
 * run only at the border, and each value is written where and as the plan says. Weighted sums keep
 * one order of terms, so all layouts give the same values.
 */
function sampleInto(image: RgbImage, region: SquareRegion, size: number, out: Float32Array, plan: WritePlan): void {
  const { data, width, height } = image;
  const { pixelStride, channelStride, roundFirst, scale: valueScale, offset: valueOffset } = plan;
  const [s0, s1, s2] = plan.sources;
  const [m0, m1, m2] = plan.mean;
  const c1 = channelStride, c2 = 2 * channelStride;
  const step = plan.mirrored ? -pixelStride : pixelStride;
  const scale = region.side / size;
  const cos = Math.cos(region.angle) * scale;
  const sin = Math.sin(region.angle) * scale;
  const half = size / 2;
  const stride = width * 3;
  const lastX = width - 1, lastY = height - 1;
  for (let v = 0; v < size; v++) {
    const dy = v + 0.5 - half;
    // Pixel centres sit at integer + 0.5 in both coordinate systems.
    const rowX = region.centerX - sin * dy - 0.5;
    const rowY = region.centerY + cos * dy - 0.5;
    let o = (v * size + (plan.mirrored ? size - 1 : 0)) * pixelStride;
    for (let u = 0; u < size; u++, o += step) {
      const dx = u + 0.5 - half;
      const x = rowX + cos * dx;
      const y = rowY + sin * dx;
      let a: number, b: number, c: number;
      // floor(x) >= 0 and < lastX exactly when x is, and then floor is truncation to an int32, which
      // keeps the tap indices small integers (a float index costs a check on every read).
      if (x >= 0 && y >= 0 && x < lastX && y < lastY) {
        const x0 = x | 0;
        const y0 = y | 0;
        const fx = x - x0;
        const fy = y - y0;
        const i = y0 * stride + x0 * 3;
        const j = i + stride;
        const gx = 1 - fx, gy = 1 - fy;
        const w00 = gx * gy, w10 = fx * gy, w01 = gx * fy, w11 = fx * fy;
        a = w00 * data[i + s0] + w10 * data[i + 3 + s0] + w01 * data[j + s0] + w11 * data[j + 3 + s0];
        b = w00 * data[i + s1] + w10 * data[i + 3 + s1] + w01 * data[j + s1] + w11 * data[j + 3 + s1];
        c = w00 * data[i + s2] + w10 * data[i + 3 + s2] + w01 * data[j + s2] + w11 * data[j + 3 + s2];
      } else if (x < -1 || y < -1 || x >= width || y >= height) {
        // No tap inside (the padding around a photo): the sum is zero.
        a = 0; b = 0; c = 0;
      } else {
        const x0 = Math.floor(x);
        const y0 = Math.floor(y);
        const fx = x - x0;
        const fy = y - y0;
        a = 0; b = 0; c = 0;
        for (let corner = 0; corner < 4; corner++) {
          const px = x0 + (corner & 1);
          const py = y0 + (corner >> 1);
          if (px < 0 || py < 0 || px >= width || py >= height) continue;
          const w = ((corner & 1) ? fx : 1 - fx) * ((corner >> 1) ? fy : 1 - fy);
          const i = (py * width + px) * 3;
          a += w * data[i + s0];
          b += w * data[i + s1];
          c += w * data[i + s2];
        }
      }
      if (roundFirst) {
        a = Math.fround(a); b = Math.fround(b); c = Math.fround(c);
      }
      out[o] = (a - m0) * valueScale + valueOffset;
      out[o + c1] = (b - m1) * valueScale + valueOffset;
      out[o + c2] = (c - m2) * valueScale + valueOffset;
    }
  }
}

/** A square HWC crop mirrored left to right (a new array). */
export function mirrorCrop(crop: Float32Array, size: number, channels = 3): Float32Array {
  if (crop.length !== size * size * channels) throw new RangeError(`a ${size}x${size}x${channels} crop has ${size * size * channels} values, got ${crop.length}`);
  const mirrored = new Float32Array(crop.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = (y * size + x) * channels;
      const to = (y * size + size - 1 - x) * channels;
      for (let c = 0; c < channels; c++) mirrored[to + c] = crop[from + c];
    }
  }
  return mirrored;
}
