/**
 * The whole per-photo path of face3d: decode → detect → landmarks → identity features → 3DMM
 * vectors (the regressor head), plus pose and expression from the shape fit. The identity vector
 * is the regressed [α, β]; pose and expression are kept apart from it.
 */
import { join } from 'node:path';
import { config } from '../core/config.js';
import type { RgbImage } from '../core/image.js';
import { analyseImage, closeFaceNetworks, openFaceNetworks, type AnalyseOptions, type AnalysedFace, type FaceNetworks } from './pipeline.js';
import { wrapNetwork, type Network } from './networks.js';
import { bundleFeatureNetwork } from './feature-networks.js';
import { loadModel } from './onnx-runtime.js';
import { loadBundle, type Bundle } from '../morphable/bundle.js';
import { fitShape } from '../morphable/fit.js';
import type { EulerAngles } from '../morphable/procrustes.js';
import { Face3dError } from '../core/errors.js';
import { identityVectorOf, type IdentityVector } from '../core/vector.js';
import { timeStage } from '../core/events.js';

export const DEFAULT_BUNDLE = 'lfw-facemesh';

export interface EncodedFace extends AnalysedFace {
  /** The paper's method: the regressor's estimate of the person's pooled coefficients. */
  readonly vector: IdentityVector;
  readonly pose: EulerAngles;
  readonly expression: Float32Array;
}

export function defaultBundleDir(): string {
  return join(config().modelsDir, DEFAULT_BUNDLE);
}

export class FaceEncoder {
  private constructor(
    readonly bundle: Bundle,
    private readonly networks: FaceNetworks,
    private readonly head: Network,
  ) {}

  /** `regressorFile` swaps in another head of the same shape (the evaluation's shuffled-labels control). */
  static async open(bundleDir = defaultBundleDir(), regressorFile?: string): Promise<FaceEncoder> {
    const bundle = await loadBundle(bundleDir);
    const regressor = bundle.manifest.regressor;
    if (!regressor) throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${bundle.manifest.id} has no trained regressor`);
    const identity = bundleFeatureNetwork(bundle.manifest.preprocessing);
    if (identity.dim !== regressor.inputDim) throw new Face3dError('MODEL_UNAVAILABLE', `bundle ${bundle.manifest.id}: its regressor reads ${regressor.inputDim} values, ${identity.name} gives ${identity.dim}`);
    const [networks, headModel] = await Promise.all([openFaceNetworks(identity), loadModel(join(bundleDir, regressorFile ?? regressor.file))]);
    return new FaceEncoder(bundle, networks, wrapNetwork(`${bundle.manifest.id}/regressor`, headModel, [regressor.inputDim]));
  }

  get bundleId(): string {
    return this.bundle.manifest.id;
  }

  /** The largest face (or every face), each with its regressed identity vector, pose and expression. */
  async encode(image: RgbImage, options: AnalyseOptions = {}): Promise<EncodedFace[]> {
    const faces = await analyseImage(this.networks, image, options);
    return Promise.all(faces.map((face) => timeStage('regress', () => this.encodeFace(face))));
  }

  private async encodeFace(face: AnalysedFace): Promise<EncodedFace> {
    const { coefficients } = await this.head.infer(face.features);
    const { shape, texture } = this.bundle.manifest;
    const fit = fitShape(this.bundle, face.landmarks.points);
    return {
      ...face,
      vector: identityVectorOf(this.bundleId, coefficients, shape.components, texture.components),
      pose: fit.pose,
      expression: Float32Array.from(fit.expression),
    };
  }

  async close(): Promise<void> {
    await Promise.all([closeFaceNetworks(this.networks), this.head.close()]);
  }
}
