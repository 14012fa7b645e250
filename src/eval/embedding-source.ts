/**
 * What an evaluation compares: for each photo, one vector of the chosen kind. Photos are read
 * once and cached, so a pairs list that reuses a photo costs one encoding.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeImage } from '../inference/decode.js';
import type { EncodedFace } from '../inference/bundle-encoder.js';
import { FaceEncoder } from '../inference/face-encoder.js';
import type { InferenceSettings } from '../inference/inference-settings.js';
import { fittedVector } from './fitted-vector.js';
import { mulberry32, randomNormal } from '../training/random.js';
import type { RgbImage } from '../core/image.js';

export type VectorKind = 'regressed' | 'fitted' | 'features';
export type ControlKind = 'random-projection' | 'shuffled-labels';
export type FaceBoxMode = 'detect' | 'full';
export type FaceSelection = 'largest' | 'central';

export interface EmbeddingOptions {
  readonly root: string;
  readonly vector: VectorKind;
  readonly faceBox: FaceBoxMode;
  /** Default `central`: evaluation sets are centred portraits, where a larger bystander is not the subject. */
  readonly select?: FaceSelection;
  readonly control?: ControlKind;
  readonly bundleDir?: string;
  /** Default: the built-in settings, nothing read from the environment. */
  readonly inference?: InferenceSettings;
}

/** One photo's vector, or why it has none (counted as a failure, never dropped). */
export type PhotoVector = { readonly vector: Float32Array; readonly face: EncodedFace; readonly image: RgbImage } | { readonly error: string };

const CONTROL_SEED = 20170721;

/** A fixed Gaussian projection of the identity features to the regressor's output size. */
export function randomProjection(inputDim: number, outputDim: number): (features: Float32Array) => Float32Array {
  const random = mulberry32(CONTROL_SEED);
  const matrix = Float32Array.from({ length: inputDim * outputDim }, () => randomNormal(random));
  return (features) => {
    const out = new Float32Array(outputDim);
    for (let i = 0; i < inputDim; i++) {
      const f = features[i];
      for (let o = 0; o < outputDim; o++) out[o] += f * matrix[i * outputDim + o];
    }
    return out;
  };
}

export class EmbeddingSource {
  private readonly cache = new Map<string, Promise<PhotoVector>>();
  private readonly project?: (features: Float32Array) => Float32Array;

  private constructor(readonly encoder: FaceEncoder, readonly options: EmbeddingOptions) {
    if (options.control === 'random-projection') {
      const regressor = encoder.bundle.manifest.regressor!;
      this.project = randomProjection(regressor.inputDim, regressor.outputDim);
    }
  }

  static async open(options: EmbeddingOptions): Promise<EmbeddingSource> {
    const controlHead = options.control === 'shuffled-labels' ? 'regressor-control-shuffled-labels.onnx' : undefined;
    return new EmbeddingSource(await FaceEncoder.open(options.inference, options.bundleDir, controlHead), options);
  }

  /**
   * Whether the evaluation, not the service, says which face is the subject: the central face of a
   * centred portrait, or the whole image. The enrollment worker ignores other faces when the caller
   * gives a faceBox; the same holds here, so several faces count only when the largest is chosen,
   * as the service chooses without a faceBox.
   */
  get designatesFace(): boolean {
    return this.options.faceBox === 'full' || (this.options.select ?? 'central') === 'central';
  }

  /** What the vectors are, for reports. */
  describe(): string {
    return this.options.control ? `control:${this.options.control}` : this.options.vector;
  }

  vectorOf(path: string): Promise<PhotoVector> {
    let pending = this.cache.get(path);
    if (!pending) {
      pending = this.compute(path);
      this.cache.set(path, pending);
    }
    return pending;
  }

  private async compute(path: string): Promise<PhotoVector> {
    let image: RgbImage;
    try {
      image = await decodeImage(await readFile(join(this.options.root, path)), this.options.inference?.decodeLimits);
    } catch (error) {
      return { error: (error as { code?: string }).code ?? 'CORRUPT_IMAGE' };
    }
    const faceBox = this.options.faceBox === 'full' ? { x: 0, y: 0, width: image.width, height: image.height } : undefined;
    const [face] = await this.encoder.encode(image, { faceBox, select: this.options.select ?? 'central' });
    if (!face) return { error: 'NO_FACE' };
    return { vector: this.vectorFor(image, face), face, image };
  }

  private vectorFor(image: RgbImage, face: EncodedFace): Float32Array {
    if (this.project) return this.project(face.features);
    switch (this.options.vector) {
      case 'features':
        return face.features;
      case 'fitted':
        return fittedVector(this.encoder.bundle, image, face).vector;
      case 'regressed':
        return face.vector.vector;
    }
  }

  close(): Promise<void> {
    return this.encoder.close();
  }
}
