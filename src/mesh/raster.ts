/**
 * Pixel-level primitives shared by the preview renderer and the UV texture warp. Pixel (x, y)
 * covers [x, x + 1) x [y, y + 1), so its centre is at (x + 0.5, y + 0.5).
 */
import type { RgbImage } from '../core/image.js';

/** Called for every pixel whose centre lies in the triangle, with the centre's barycentric weights. */
export type PixelVisitor = (x: number, y: number, wa: number, wb: number, wc: number) => void;

/** Pixels on an edge shared by two triangles belong to both, so a mesh leaves no cracks. */
const EDGE_TOLERANCE = 1e-7;

/**
 * Visits the pixels of a width x height grid covered by triangle abc (either winding). Degenerate
 * or non-finite triangles cover nothing.
 */
export function rasterizeTriangle(
  ax: number, ay: number, bx: number, by: number, cx: number, cy: number,
  width: number, height: number,
  visit: PixelVisitor,
): void {
  const area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
  if (area === 0 || !Number.isFinite(area)) return;
  const xStart = Math.max(0, Math.ceil(Math.min(ax, bx, cx) - 0.5));
  const xEnd = Math.min(width - 1, Math.floor(Math.max(ax, bx, cx) - 0.5));
  const yStart = Math.max(0, Math.ceil(Math.min(ay, by, cy) - 0.5));
  const yEnd = Math.min(height - 1, Math.floor(Math.max(ay, by, cy) - 0.5));
  const inverseArea = 1 / area;
  for (let py = yStart; py <= yEnd; py++) {
    const y = py + 0.5;
    for (let px = xStart; px <= xEnd; px++) {
      const x = px + 0.5;
      const wa = ((bx - x) * (cy - y) - (cx - x) * (by - y)) * inverseArea;
      const wb = ((cx - x) * (ay - y) - (ax - x) * (cy - y)) * inverseArea;
      const wc = 1 - wa - wb;
      if (wa >= -EDGE_TOLERANCE && wb >= -EDGE_TOLERANCE && wc >= -EDGE_TOLERANCE) visit(px, py, wa, wb, wc);
    }
  }
}

/** Pixels of any channel count and number type, row-major, channels interleaved. */
export interface PixelGrid {
  readonly data: ArrayLike<number>;
  readonly width: number;
  readonly height: number;
}

/**
 * Bilinear sample at continuous image coordinates (pixel centres at +0.5, as above), clamped to the
 * border, written as `channels` floats into out[offset..].
 */
export function sampleBilinearChannels(image: PixelGrid, channels: number, x: number, y: number, out: Float32Array, offset = 0): void {
  const { data, width, height } = image;
  const fx = Math.min(Math.max(x - 0.5, 0), width - 1);
  const fy = Math.min(Math.max(y - 0.5, 0), height - 1);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, width - 1);
  const y1 = Math.min(y0 + 1, height - 1);
  const tx = fx - x0;
  const ty = fy - y0;
  const i00 = channels * (y0 * width + x0);
  const i01 = channels * (y0 * width + x1);
  const i10 = channels * (y1 * width + x0);
  const i11 = channels * (y1 * width + x1);
  for (let c = 0; c < channels; c++) {
    const top = data[i00 + c] + (data[i01 + c] - data[i00 + c]) * tx;
    const bottom = data[i10 + c] + (data[i11 + c] - data[i10 + c]) * tx;
    out[offset + c] = top + (bottom - top) * ty;
  }
}

/** An RGB photo's bilinear sample (sampleBilinearChannels with 3 channels). */
export function sampleBilinear(image: RgbImage, x: number, y: number, out: Float32Array, offset = 0): void {
  sampleBilinearChannels(image, 3, x, y, out, offset);
}
