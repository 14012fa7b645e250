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
 * Samples `region` into a size x size RGB crop (HWC, float 0..255, or mapped by `values` to what a
 * network reads) with bilinear interpolation. Pixels outside the photo are zero (before the map),
 * as in the seed's preprocessing, so borders never smear. Every network input is cut here, so the
 * loop is written for speed: the four taps are read directly wherever all lie inside the photo
 * (all but a border one pixel wide), and the per-tap checks run only at the border.
 */
export function sampleRegion(image: RgbImage, region: SquareRegion, size: number, values: ValueMap = IDENTITY_VALUES): Float32Array {
  const out = new Float32Array(size * size * 3);
  const { data, width, height } = image;
  const { scale: valueScale, offset: valueOffset } = values;
  const scale = region.side / size;
  const cos = Math.cos(region.angle) * scale;
  const sin = Math.sin(region.angle) * scale;
  const half = size / 2;
  const stride = width * 3;
  let o = 0;
  for (let v = 0; v < size; v++) {
    const dy = v + 0.5 - half;
    // Pixel centres sit at integer + 0.5 in both coordinate systems.
    const rowX = region.centerX - sin * dy - 0.5;
    const rowY = region.centerY + cos * dy - 0.5;
    for (let u = 0; u < size; u++, o += 3) {
      const dx = u + 0.5 - half;
      const x = rowX + cos * dx;
      const y = rowY + sin * dx;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      if (x0 >= 0 && y0 >= 0 && x0 < width - 1 && y0 < height - 1) {
        const i = y0 * stride + x0 * 3;
        const j = i + stride;
        const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
        for (let c = 0; c < 3; c++) {
          out[o + c] = (w00 * data[i + c] + w10 * data[i + 3 + c] + w01 * data[j + c] + w11 * data[j + 3 + c]) * valueScale + valueOffset;
        }
        continue;
      }
      let r = 0, g = 0, b = 0;
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
      out[o] = r * valueScale + valueOffset;
      out[o + 1] = g * valueScale + valueOffset;
      out[o + 2] = b * valueScale + valueOffset;
    }
  }
  return out;
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
