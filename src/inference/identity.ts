import type { Point2, RgbImage } from './image.js';
import { sampleRegion, type SquareRegion } from './crop.js';
import { FACEMESH_LANDMARKS } from '../morphable/facemesh-topology.js';
import type { ImageNetwork } from './networks.js';

/**
 * Framing of the identity network's crop, relative to the face's own landmarks so that it does not
 * depend on how the photo was taken: the crop centre lies `centre` of the way from the eyes' midpoint
 * to the mouth's midpoint, its side is `side` times that eye-to-mouth distance, and `level` rotates
 * the crop so the eyes are horizontal.
 */
export interface IdentityFraming {
  readonly centre: number;
  readonly side: number;
  readonly level: boolean;
}

/** HSE FaceRes (MobileNet, 1024-d): 224x224, BGR 0..255 minus the ImageNet channel means. */
export const IDENTITY_INPUT_SIZE = 224;
const BGR_MEAN = [103.939, 116.779, 123.68] as const;

/** Chosen on pairs of LFW *train* people (tools/eval/tune-framing), never on the dev pairs. */
export const DEFAULT_IDENTITY_FRAMING: IdentityFraming = { centre: 0.35, side: 3.2, level: true };

function midpoint(points: Float32Array, a: number, b: number): Point2 {
  return { x: (points[a * 3] + points[b * 3]) / 2, y: (points[a * 3 + 1] + points[b * 3 + 1]) / 2 };
}

export function identityRegion(points: Float32Array, framing: IdentityFraming = DEFAULT_IDENTITY_FRAMING): SquareRegion {
  const eyes = midpoint(points, FACEMESH_LANDMARKS.rightEyeOuterCorner, FACEMESH_LANDMARKS.leftEyeOuterCorner);
  const mouth = midpoint(points, FACEMESH_LANDMARKS.mouthRightCorner, FACEMESH_LANDMARKS.mouthLeftCorner);
  const dx = mouth.x - eyes.x;
  const dy = mouth.y - eyes.y;
  const eyeToMouth = Math.hypot(dx, dy);
  const rightEye = { x: points[FACEMESH_LANDMARKS.rightEyeOuterCorner * 3], y: points[FACEMESH_LANDMARKS.rightEyeOuterCorner * 3 + 1] };
  const leftEye = { x: points[FACEMESH_LANDMARKS.leftEyeOuterCorner * 3], y: points[FACEMESH_LANDMARKS.leftEyeOuterCorner * 3 + 1] };
  return {
    centerX: eyes.x + framing.centre * dx,
    centerY: eyes.y + framing.centre * dy,
    side: framing.side * eyeToMouth,
    angle: framing.level ? Math.atan2(leftEye.y - rightEye.y, leftEye.x - rightEye.x) : 0,
  };
}

/** The identity network's input for one face: the crop in BGR with the channel means removed. */
export function identityInput(image: RgbImage, region: SquareRegion): Float32Array {
  const rgb = sampleRegion(image, region, IDENTITY_INPUT_SIZE);
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i];
    rgb[i] = rgb[i + 2] - BGR_MEAN[0];
    rgb[i + 1] -= BGR_MEAN[1];
    rgb[i + 2] = r - BGR_MEAN[2];
  }
  return rgb;
}

export async function identityFeatures(network: ImageNetwork, image: RgbImage, region: SquareRegion): Promise<Float32Array> {
  const out = await network.infer(identityInput(image, region));
  return out.embedding;
}
