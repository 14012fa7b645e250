/**
 * The rebuilt FaceRecognitionNet (onnxruntime-node) against face-api's own implementation
 * (its Node bundle on the pure-JS TF.js CPU backend), on deterministic synthetic face-sized images.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { convertFaceapiRecognition } from '../../tools/faceapi-to-onnx/build.js';
import { EMBEDDING_SIZE, INPUT_NAME, INPUT_SIZE, OUTPUT_NAME } from '../../tools/faceapi-to-onnx/recognition-net.js';
import { locateFaceapiPackage } from '../../tools/faceapi-to-onnx/source.js';
import { syntheticImages } from '../../tools/tfjs-to-onnx/synthetic-input.js';
import { maxAbs, maxAbsDiff } from '../helpers/tfjs-graphs.js';

const RELATIVE_TOLERANCE = 1e-4;
const BATCH_TOLERANCE = 1e-5;
const SEEDS = [11, 12, 13];
const IMAGE_SHAPE = [INPUT_SIZE, INPUT_SIZE, 3] as const;

/** Whole-number RGB values, like decoded pixels. */
function syntheticFace(seed: number): Float32Array {
  return syntheticImages([1, ...IMAGE_SHAPE], [0, 255], seed).map(Math.round);
}

async function faceapiDescriptor(net: faceapi.FaceRecognitionNet, pixels: Float32Array): Promise<Float32Array> {
  const image = tf.tensor3d(pixels, [...IMAGE_SHAPE]);
  const descriptor = await net.computeFaceDescriptor(image);
  image.dispose();
  if (Array.isArray(descriptor)) throw new Error('expected a single descriptor');
  return descriptor;
}

async function onnxEmbeddings(session: ort.InferenceSession, images: readonly Float32Array[]): Promise<Float32Array> {
  const data = new Float32Array(images.length * images[0].length);
  images.forEach((image, i) => data.set(image, i * image.length));
  const result = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', data, [images.length, ...IMAGE_SHAPE]) });
  expect(result[OUTPUT_NAME].dims).toEqual([images.length, EMBEDDING_SIZE]);
  return result[OUTPUT_NAME].data as Float32Array;
}

const row = (embeddings: Float32Array, index: number): Float32Array => embeddings.subarray(index * EMBEDDING_SIZE, (index + 1) * EMBEDDING_SIZE);

describe('faceapi-recognition: ONNX vs face-api FaceRecognitionNet', () => {
  const images = SEEDS.map(syntheticFace);
  let session: ort.InferenceSession;
  let batched: Float32Array;

  beforeAll(async () => {
    session = await ort.InferenceSession.create((await convertFaceapiRecognition()).onnx);
    batched = await onnxEmbeddings(session, images);
  });

  afterAll(async () => {
    await session.release();
  });

  it('gives face-api\'s descriptors for raw 0..255 pixels', async () => {
    // The face-api bundle registers the WASM backend too; TF.js keeps one engine per process.
    await tf.setBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const net = new faceapi.FaceRecognitionNet();
    await net.loadFromDisk(path.join(locateFaceapiPackage().root, 'model'));
    for (const [i, image] of images.entries()) {
      const expected = await faceapiDescriptor(net, image);
      const parity = { image: i, maxAbsDiff: maxAbsDiff(row(batched, i), expected), scale: maxAbs(expected) };
      expect(parity.scale).toBeGreaterThan(0);
      expect({ ...parity, withinTolerance: parity.maxAbsDiff <= RELATIVE_TOLERANCE * parity.scale }).toMatchObject({ withinTolerance: true });
    }
    net.dispose();
  });

  it('gives each image of a batch of 3 what it gives that image alone', async () => {
    for (const [i, image] of images.entries()) {
      const single = await onnxEmbeddings(session, [image]);
      expect(maxAbsDiff(row(batched, i), single)).toBeLessThanOrEqual(BATCH_TOLERANCE);
    }
  });
});
