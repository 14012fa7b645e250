/** Static shape inference over TF shapes; the batch dimension is tracked symbolically. */

import { BATCH } from '../../src/onnx/onnx-builder.js';
export { BATCH };

/** A known size, the model's batch size, or unknown. */
export type Dim = number | typeof BATCH | null;
export type Shape = readonly Dim[];

function broadcastDim(a: Dim, b: Dim): Dim {
  if (a === 1) return b;
  if (b === 1 || a === b) return a;
  if (typeof a === 'number' && typeof b === 'number') throw new Error(`cannot broadcast ${a} against ${b}`);
  return null;
}

/** NumPy/TF broadcasting: trailing axes aligned. */
export function broadcastShapes(shapes: readonly Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const padded = shapes.map((s) => [...new Array<Dim>(rank - s.length).fill(1), ...s]);
  return Array.from({ length: rank }, (_, i) => padded.map((s) => s[i]).reduce(broadcastDim));
}

export type Padding = 'SAME' | 'VALID' | 'EXPLICIT';

export interface Window2d {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
}

/** ONNX `pads` [top, left, bottom, right], or SAME_UPPER when sizes are unknown (same rule as TF). */
export type SpatialPadding = { readonly pads: readonly number[] } | { readonly autoPad: 'SAME_UPPER' };

/** TF SAME puts the odd pixel of padding after (bottom/right), like ONNX SAME_UPPER. */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effectiveKernel = (kernel - 1) * dilation + 1;
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + effectiveKernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * `explicit` holds TF's explicit_paddings for EXPLICIT mode: NHWC pairs [before, after] x 4.
 */
export function spatialPadding(padding: Padding, spatial: readonly [Dim, Dim], window: Window2d, explicit: readonly number[]): SpatialPadding {
  if (padding === 'VALID') return { pads: [0, 0, 0, 0] };
  if (padding === 'EXPLICIT') return { pads: [explicit[2], explicit[4], explicit[3], explicit[5]] };
  const [height, width] = spatial;
  if (typeof height !== 'number' || typeof width !== 'number') return { autoPad: 'SAME_UPPER' };
  const [top, bottom] = samePads(height, window.kernel[0], window.strides[0], window.dilations[0]);
  const [left, right] = samePads(width, window.kernel[1], window.strides[1], window.dilations[1]);
  return { pads: [top, left, bottom, right] };
}

function windowOutput(size: Dim, padBefore: number, padAfter: number, kernel: number, stride: number, dilation: number): Dim {
  if (typeof size !== 'number') return null;
  const effectiveKernel = (kernel - 1) * dilation + 1;
  return Math.floor((size + padBefore + padAfter - effectiveKernel) / stride) + 1;
}

/** Output [height, width] of a convolution or pooling window; unknown under SAME_UPPER. */
export function windowOutputSize(spatial: readonly [Dim, Dim], window: Window2d, padding: SpatialPadding): [Dim, Dim] {
  if (!('pads' in padding)) return [null, null];
  const { pads } = padding;
  return [
    windowOutput(spatial[0], pads[0], pads[2], window.kernel[0], window.strides[0], window.dilations[0]),
    windowOutput(spatial[1], pads[1], pads[3], window.kernel[1], window.strides[1], window.dilations[1]),
  ];
}

export function formatShape(shape: Shape): string {
  return `[${shape.map((d) => d ?? '?').join(',')}]`;
}
