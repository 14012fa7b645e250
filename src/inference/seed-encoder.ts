/**
 * The CNN3DMM release served as a bundle (`preprocessing.kind === 'cnn3dmm'`): our detector and
 * FaceMesh find the face, the seed's crop is taken around the bounding box of the 68 dlib-markup
 * points derived from FaceMesh (the seed's box factors were fitted to dlib's 68-landmark boxes, so
 * this box, not all 468 FaceMesh points, whose extent includes the forehead, is the one they
 * expect), and the imported network regresses [α, β] from the raw BGR crop.
 *
 * Pose comes from FaceMesh's landmarks aligned to our own FaceMesh bundle's mean shape; the seed
 * network estimates no expression, so the expression is empty.
 */
import { join } from 'node:path';
import { Face3dError } from '../core/errors.js';
import { loadBundle, type Bundle } from '../morphable/bundle.js';
import { facemeshToDlib68 } from '../morphable/facemesh-dlib68.js';
import { fitPose } from '../morphable/fit.js';
import { BundleEncoder, type FaceRegressor } from './bundle-encoder.js';
import { defaultBundleDir } from './face-encoder.js';
import type { Box } from '../core/image.js';
import { wrapNetwork, type Network } from './networks.js';
import { loadModel } from './onnx-runtime.js';
import type { InferenceSettings } from './inference-settings.js';
import { openFaceNetworks } from './pipeline.js';
import { readSeedPreprocessing, seedNetworkInput, type SeedPreprocessing } from './seed-input.js';
import { identityVectorOf } from '../core/vector.js';

/** The bounding box of the 68-point markup computed from FaceMesh's points (photo pixels, flat xyz). */
export function dlib68Box(facemeshPoints: Float32Array): Box {
  const markup = facemeshToDlib68(facemeshPoints);
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < markup.length; i += 3) {
    minX = Math.min(minX, markup[i]);
    maxX = Math.max(maxX, markup[i]);
    minY = Math.min(minY, markup[i + 1]);
    maxY = Math.max(maxY, markup[i + 1]);
  }
  return { x: minX, y: minY, width: maxX - minX, height: maxY - minY };
}

export class SeedEncoder extends BundleEncoder {
  /** `poseBundleDir`: a FaceMesh-topology bundle whose mean shape the landmarks are aligned to for pose. */
  static async open(bundleDir: string, settings: InferenceSettings, poseBundleDir = defaultBundleDir(settings)): Promise<SeedEncoder> {
    const [bundle, poseBundle] = await Promise.all([loadBundle(bundleDir), loadBundle(poseBundleDir)]);
    const { manifest } = bundle;
    const preprocessing = readSeedPreprocessing(manifest.preprocessing);
    if (!preprocessing || !manifest.regressor) throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${manifest.id} has no imported CNN3DMM regressor (face3d import caffe)`);
    const expected = manifest.shape.components + manifest.texture.components;
    if (manifest.regressor.outputDim < expected) {
      throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${manifest.id}: its regressor has ${manifest.regressor.outputDim} outputs, fewer than ${expected} coefficients`);
    }
    const size = preprocessing.inputSize;
    const [networks, model] = await Promise.all([openFaceNetworks(settings), loadModel(join(bundleDir, manifest.regressor.file), settings.runtime)]);
    return new SeedEncoder(bundle, networks, seedRegressor(bundle, preprocessing, wrapNetwork(`${manifest.id}/regressor`, model, [3, size, size], settings.batching), poseBundle.shape.mean));
  }
}

/** `poseReference`: a FaceMesh-topology mean shape, for the pose of the face. */
function seedRegressor(bundle: Bundle, preprocessing: SeedPreprocessing, network: Network, poseReference: Float32Array): FaceRegressor {
  const { id, shape, texture } = bundle.manifest;
  return {
    async regress(image, face) {
      const input = seedNetworkInput(image, dlib68Box(face.landmarks.points), { source: 'landmarks', size: preprocessing.inputSize });
      const [coefficients] = Object.values(await network.infer(input));
      return {
        vector: identityVectorOf(id, coefficients, shape.components, texture.components),
        pose: fitPose(poseReference, face.landmarks.points).pose,
        expression: new Float32Array(0),
      };
    },
    close: () => network.close(),
  };
}
