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

/**
 * Samples `region` into a size x size RGB crop (HWC, float 0..255) with bilinear interpolation.
 * Pixels outside the photo are zero, as in the seed's preprocessing, so borders never smear.
 */
export function sampleRegion(image: RgbImage, region: SquareRegion, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  const { data, width, height } = image;
  const scale = region.side / size;
  const cos = Math.cos(region.angle) * scale;
  const sin = Math.sin(region.angle) * scale;
  const half = size / 2;
  for (let v = 0; v < size; v++) {
    const dy = v + 0.5 - half;
    for (let u = 0; u < size; u++) {
      const dx = u + 0.5 - half;
      // Pixel centres sit at integer + 0.5 in both coordinate systems.
      const x = region.centerX + cos * dx - sin * dy - 0.5;
      const y = region.centerY + sin * dx + cos * dy - 0.5;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      const o = (v * size + u) * 3;
      for (let corner = 0; corner < 4; corner++) {
        const px = x0 + (corner & 1);
        const py = y0 + (corner >> 1);
        if (px < 0 || py < 0 || px >= width || py >= height) continue;
        const w = ((corner & 1) ? fx : 1 - fx) * ((corner >> 1) ? fy : 1 - fy);
        if (w === 0) continue;
        const i = (py * width + px) * 3;
        out[o] += w * data[i];
        out[o + 1] += w * data[i + 1];
        out[o + 2] += w * data[i + 2];
      }
    }
  }
  return out;
}
