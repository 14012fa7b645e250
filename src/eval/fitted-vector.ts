/**
 * The baseline the paper argues against, for evaluation only: one photo's own landmarks and
 * texture projected on the bundle's bases, instead of the regressor's estimate of the person.
 */
import type { RgbImage } from '../core/image.js';
import { joinedIdentityVector, type IdentityVector } from '../core/vector.js';
import { faceTexture, TEXTURE_SIZE } from '../inference/face-texture.js';
import type { AnalysedFace } from '../inference/pipeline.js';
import { uvTextureSize, type Bundle } from '../morphable/bundle.js';
import { fitShape, fitTexture } from '../morphable/fit.js';
import { symmetriseTexture } from '../morphable/symmetry.js';
import { downsampleTexture } from '../morphable/texture-space.js';

export function fittedVector(bundle: Bundle, image: RgbImage, face: AnalysedFace): IdentityVector {
  const shape = fitShape(bundle, face.landmarks.points).identity;
  const { texture, mask } = faceTexture(image, face.landmarks.points);
  const size = uvTextureSize(bundle.manifest);
  const sample = downsampleTexture(texture, mask, TEXTURE_SIZE, TEXTURE_SIZE / size);
  const seen = bundle.manifest.preprocessing.symmetric ? symmetriseTexture(sample, size) : sample;
  const beta = fitTexture(bundle.texture, seen.texture, seen.visibility);
  return joinedIdentityVector(bundle.manifest.id, shape, beta);
}
