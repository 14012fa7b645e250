/**
 * The CNN3DMM release's preprocessing (Tran et al., demoCode/utils.py and testBatchModel.py): the
 * face box made square and expanded asymmetrically, zero outside the photo, resized to 224 x 224,
 * BGR, the mean image subtracted. Our crop samples the expanded square bilinearly at sub-pixel
 * precision where the seed rounds its edges to whole pixels and resizes with OpenCV: the inputs
 * agree to within that rounding.
 */
import { expandToSquare, sampleRegion, type BoxExpansion, type SquareRegion } from './crop.js';
import type { Box, RgbImage } from '../core/image.js';

/** Which box the expansion applies to: dlib's 68-landmark extent (the seed's default) or dlib's face detector box. */
export type SeedBoxSource = 'landmarks' | 'detector';

/** utils.py's rescaleCASIA (landmark boxes) and rescaleBB (detector boxes), in half-sides of the box. */
export const SEED_BOX_EXPANSION: Readonly<Record<SeedBoxSource, BoxExpansion>> = {
  landmarks: { left: 1.9255, top: 2.2591, right: 1.9423, bottom: 1.6087 },
  detector: { left: 1.785974, top: 1.951171, right: 1.8356, bottom: 1.670403 },
};

export const SEED_INPUT_SIZE = 224;

/** A bundle manifest's `preprocessing` when its regressor is the imported CNN3DMM network. */
export interface SeedPreprocessing {
  readonly kind: 'cnn3dmm';
  readonly inputSize: number;
  readonly layout: 'NCHW';
  readonly channelOrder: 'bgr';
  readonly pixelRange: '0..255';
  /** True when the regressor subtracts the mean image itself (face3d import caffe --mean). */
  readonly meanSubtractedInGraph: boolean;
  readonly boxExpansion: Readonly<Record<SeedBoxSource, BoxExpansion>>;
}

export function seedPreprocessing(meanSubtractedInGraph: boolean): SeedPreprocessing {
  return { kind: 'cnn3dmm', inputSize: SEED_INPUT_SIZE, layout: 'NCHW', channelOrder: 'bgr', pixelRange: '0..255', meanSubtractedInGraph, boxExpansion: SEED_BOX_EXPANSION };
}

/** The manifest's preprocessing as the seed's, or undefined for bundles whose regressor takes identity features. */
export function readSeedPreprocessing(preprocessing: Readonly<Record<string, unknown>>): SeedPreprocessing | undefined {
  return preprocessing.kind === 'cnn3dmm' ? (preprocessing as unknown as SeedPreprocessing) : undefined;
}

export function seedRegion(box: Box, source: SeedBoxSource, expansion: BoxExpansion = SEED_BOX_EXPANSION[source]): SquareRegion {
  return expandToSquare(box, expansion);
}

export interface SeedInputOptions {
  readonly source: SeedBoxSource;
  readonly size?: number;
  readonly expansion?: BoxExpansion;
  /** Subtracted here only for a network without the mean inside: [3, size, size] (BGR planes) or [3] per channel. */
  readonly mean?: Float32Array;
}

/** The network's input for one face: NCHW [1, 3, size, size], BGR, 0..255 (minus `mean` when given). */
export function seedNetworkInput(image: RgbImage, box: Box, options: SeedInputOptions): Float32Array {
  const size = options.size ?? SEED_INPUT_SIZE;
  const plane = size * size;
  const mean = options.mean;
  if (mean && mean.length !== 3 && mean.length !== 3 * plane) throw new RangeError(`mean holds ${mean.length} values; expected 3 or ${3 * plane}`);
  const rgb = sampleRegion(image, seedRegion(box, options.source, options.expansion), size);
  const out = new Float32Array(3 * plane);
  for (let channel = 0; channel < 3; channel++) {
    const source = 2 - channel; // BGR planes from RGB pixels
    for (let p = 0; p < plane; p++) {
      const subtract = mean ? mean[mean.length === 3 ? channel : channel * plane + p] : 0;
      out[channel * plane + p] = rgb[p * 3 + source] - subtract;
    }
  }
  return out;
}
