/**
 * Every bundle's encoder has one shape: the face stages (pipeline.ts: detect, landmarks, identity
 * features) find and describe each face, then the bundle's regressor gives the face's identity
 * vector in that bundle's coefficient space, its pose and its expression. Bundle kinds differ only
 * in that last step, their FaceRegressor: our own bundles regress from identity features
 * (face-encoder.ts), imported CNN3DMM bundles run the seed's network on its own crop
 * (seed-encoder.ts). open-encoder.ts opens the one a bundle's manifest calls for.
 */
import { timeStage } from '../core/events.js';
import type { RgbImage } from '../core/image.js';
import type { IdentityVector } from '../core/vector.js';
import type { Bundle } from '../morphable/bundle.js';
import type { EulerAngles } from '../morphable/procrustes.js';
import { analyseImage, closeFaceNetworks, type AnalysedFace, type AnalyseOptions, type FaceNetworks } from './pipeline.js';

export interface EncodedFace extends AnalysedFace {
  /** The paper's method: the regressor's estimate of the person's pooled coefficients. */
  readonly vector: IdentityVector;
  readonly pose: EulerAngles;
  readonly expression: Float32Array;
}

/** What one bundle kind adds to an analysed face. */
export interface FaceRegressor {
  regress(image: RgbImage, face: AnalysedFace): Promise<Pick<EncodedFace, 'vector' | 'pose' | 'expression'>>;
  close(): Promise<void>;
}

export class BundleEncoder {
  constructor(
    readonly bundle: Bundle,
    private readonly networks: FaceNetworks,
    private readonly regressor: FaceRegressor,
  ) {}

  get bundleId(): string {
    return this.bundle.manifest.id;
  }

  /** The largest face (or every face, or the face in `faceBox`), each with its vector under this bundle, pose and expression. */
  async encode(image: RgbImage, options: AnalyseOptions = {}): Promise<EncodedFace[]> {
    const faces = await analyseImage(this.networks, image, options);
    return Promise.all(faces.map((face) => timeStage('regress', async () => ({ ...face, ...(await this.regressor.regress(image, face)) }))));
  }

  async close(): Promise<void> {
    await Promise.all([closeFaceNetworks(this.networks), this.regressor.close()]);
  }
}

/** What the gallery and the enrollment worker ask of an encoder. */
export type FaceAnalyser = Pick<BundleEncoder, 'bundleId' | 'encode'>;
