/**
 * Our own bundles' encoder: after the face stages (detect → landmarks → identity features), the
 * bundle's regressor head maps the identity features to the 3DMM vector [α, β]; pose and
 * expression come from the shape fit and are kept apart from it.
 */
import { join } from 'node:path';
import { openFaceNetworks } from './pipeline.js';
import { BundleEncoder, type FaceRegressor } from './bundle-encoder.js';
import { wrapNetwork, type Network } from './networks.js';
import { bundleFeatureNetwork } from './feature-networks.js';
import { loadModel } from './onnx-runtime.js';
import { DEFAULT_INFERENCE_SETTINGS, type InferenceSettings } from './inference-settings.js';
import { loadBundle, type Bundle } from '../morphable/bundle.js';
import { poseAndExpressionFitter } from '../morphable/fit.js';
import { Face3dError } from '../core/errors.js';
import { identityVectorOf } from '../core/vector.js';

export const DEFAULT_BUNDLE = 'lfw-facemesh-v2';

export function defaultBundleDir(settings: Pick<InferenceSettings, 'modelsDir'> = DEFAULT_INFERENCE_SETTINGS): string {
  return join(settings.modelsDir, DEFAULT_BUNDLE);
}

/** Our own bundles: the regressor head reads the face's identity features; pose and expression come from the shape fit. */
export class FaceEncoder extends BundleEncoder {
  /** `regressorFile` swaps in another head of the same shape (the evaluation's shuffled-labels control). */
  static async open(settings: InferenceSettings = DEFAULT_INFERENCE_SETTINGS, bundleDir = defaultBundleDir(settings), regressorFile?: string): Promise<FaceEncoder> {
    const bundle = await loadBundle(bundleDir);
    const regressor = bundle.manifest.regressor;
    if (!regressor) throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${bundle.manifest.id} has no trained regressor`);
    const identity = bundleFeatureNetwork(bundle.manifest.preprocessing);
    if (identity.dim !== regressor.inputDim) throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${bundle.manifest.id}: its regressor reads ${regressor.inputDim} values, ${identity.name} gives ${identity.dim}`);
    const [networks, headModel] = await Promise.all([openFaceNetworks(settings, identity), loadModel(join(bundleDir, regressorFile ?? regressor.file), settings.runtime)]);
    return new FaceEncoder(bundle, networks, featureRegressor(bundle, wrapNetwork(`${bundle.manifest.id}/regressor`, headModel, [regressor.inputDim], settings.batching)));
  }
}

function featureRegressor(bundle: Bundle, head: Network): FaceRegressor {
  const { id, shape, texture } = bundle.manifest;
  const fitPoseAndExpression = poseAndExpressionFitter(bundle);
  return {
    async regress(_image, face) {
      const { coefficients } = await head.infer(face.features);
      const fit = fitPoseAndExpression(face.landmarks.points);
      return { vector: identityVectorOf(id, coefficients, shape.components, texture.components), pose: fit.pose, expression: Float32Array.from(fit.expression) };
    },
    close: () => head.close(),
  };
}
