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

/** The red, green and blue sums of one border sample (sampleBorder's result, reused: no allocation per pixel). */
const borderSums = new Float64Array(3);

/**
 * The bilinear sums at (x, y) where some taps may lie outside the photo: those count as zero, and
 * the sum of each channel adds its taps in the interior's order, so both paths give the same value.
 */
function sampleBorder(image: RgbImage, x: number, y: number): void {
  const { data, width, height } = image;
  let r = 0, g = 0, b = 0;
  // Some tap inside (else the padding around a photo: zero).
  if (x >= -1 && y >= -1 && x < width && y < height) {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    for (let corner = 0; corner < 4; corner++) {
      const px = x0 + (corner & 1);
      const py = y0 + (corner >> 1);
      if (px < 0 || py < 0 || px >= width || py >= height) continue;
      const w = ((corner & 1) ? fx : 1 - fx) * ((corner >> 1) ? fy : 1 - fy);
      const i = (py * width + px) * 3;
      r += w * data[i];
      g += w * data[i + 1];
      b += w * data[i + 2];
    }
  }
  borderSums[0] = r; borderSums[1] = g; borderSums[2] = b;
}

/**
 * The bilinear sampler behind every network input, written for speed. A sample's position is the
 * row's start plus the column's offset (both computed once), and, being monotone along a row, it
 * has all four taps inside the photo on one run of columns per row, found from both ends: that run
 * reads its taps with no checks, and only the columns outside it take the per-tap path. Each photo
 * channel is summed at fixed offsets and written where and as the plan says; weighted sums keep one
 * order of terms, so all layouts give the same values.
 */
function sampleInto(image: RgbImage, region: SquareRegion, size: number, out: Float32Array, plan: WritePlan): void {
  const { data, width, height } = image;
  const { pixelStride, channelStride, roundFirst, scale: valueScale, offset: valueOffset } = plan;
  // Output channel k reads photo channel sources[k]: where each photo channel goes, and its mean.
  const at = [0, 0, 0], mean = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    at[plan.sources[k]] = k * channelStride;
    mean[plan.sources[k]] = plan.mean[k];
  }
  const [atR, atG, atB] = at;
  const [meanR, meanG, meanB] = mean;
  const step = plan.mirrored ? -pixelStride : pixelStride;
  const scale = region.side / size;
  const cos = Math.cos(region.angle) * scale;
  const sin = Math.sin(region.angle) * scale;
  const half = size / 2;
  const columnX = new Float64Array(size), columnY = new Float64Array(size);
  for (let u = 0; u < size; u++) {
    const dx = u + 0.5 - half;
    columnX[u] = cos * dx;
    columnY[u] = sin * dx;
  }
  const stride = width * 3;
  const lastX = width - 1, lastY = height - 1;
  // Level (unrotated), a sample's y is its row's and its x its column's, the same in every row
  // (sin · dy is ±0): the taps and weights' factors are worked out once per row and per column.
  const level = sin === 0;
  const columnTap = new Int32Array(size), columnFx = new Float64Array(size), columnGx = new Float64Array(size);
  if (level) {
    for (let u = 0; u < size; u++) {
      const x = region.centerX - 0.5 + columnX[u];
      // Used only on the inside run, where truncation is floor (as below).
      const x0 = x | 0;
      columnTap[u] = x0 * 3;
      columnFx[u] = x - x0;
      columnGx[u] = 1 - columnFx[u];
    }
  }
  for (let v = 0; v < size; v++) {
    const dy = v + 0.5 - half;
    // Pixel centres sit at integer + 0.5 in both coordinate systems.
    const rowX = region.centerX - sin * dy - 0.5;
    const rowY = region.centerY + cos * dy - 0.5;
    // The run of columns whose four taps all lie inside: [first, end).
    let first = 0, end = size;
    for (; first < size; first++) {
      const x = rowX + columnX[first], y = rowY + columnY[first];
      if (x >= 0 && y >= 0 && x < lastX && y < lastY) break;
    }
    for (; end > first; end--) {
      const x = rowX + columnX[end - 1], y = rowY + columnY[end - 1];
      if (x >= 0 && y >= 0 && x < lastX && y < lastY) break;
    }
    const rowY0 = rowY | 0, rowFy = rowY - rowY0, rowGy = 1 - rowFy, rowTap = rowY0 * stride;
    let o = (v * size + (plan.mirrored ? size - 1 : 0)) * pixelStride;
    for (let u = 0; u < size; u++, o += step) {
      let r: number, g: number, b: number;
      if (u >= first && u < end) {
        let i: number, w00: number, w10: number, w01: number, w11: number;
        if (level) {
          const fx = columnFx[u], gx = columnGx[u];
          i = rowTap + columnTap[u];
          w00 = gx * rowGy; w10 = fx * rowGy; w01 = gx * rowFy; w11 = fx * rowFy;
        } else {
          const x = rowX + columnX[u];
          const y = rowY + columnY[u];
          // Inside, floor is truncation to an int32, which keeps the tap indices small integers (a
          // float index costs a check on every read).
          const x0 = x | 0;
          const y0 = y | 0;
          const fx = x - x0;
          const fy = y - y0;
          i = y0 * stride + x0 * 3;
          const gx = 1 - fx, gy = 1 - fy;
          w00 = gx * gy; w10 = fx * gy; w01 = gx * fy; w11 = fx * fy;
        }
        const j = i + stride;
        r = w00 * data[i] + w10 * data[i + 3] + w01 * data[j] + w11 * data[j + 3];
        g = w00 * data[i + 1] + w10 * data[i + 4] + w01 * data[j + 1] + w11 * data[j + 4];
        b = w00 * data[i + 2] + w10 * data[i + 5] + w01 * data[j + 2] + w11 * data[j + 5];
      } else {
        sampleBorder(image, rowX + columnX[u], rowY + columnY[u]);
        r = borderSums[0]; g = borderSums[1]; b = borderSums[2];
      }
      if (roundFirst) {
        r = Math.fround(r); g = Math.fround(g); b = Math.fround(b);
      }
      out[o + atR] = (r - meanR) * valueScale + valueOffset;
      out[o + atG] = (g - meanG) * valueScale + valueOffset;
      out[o + atB] = (b - meanB) * valueScale + valueOffset;
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
