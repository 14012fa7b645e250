/**
 * The face stages on a photo of two LFW faces, through the real networks (skipped when the dataset
 * is absent): a face found before is found again at its box in one pass of each network, the
 * others' landmarks and features not computed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import sharp from 'sharp';
import { stageChannel, type InferenceStage, type StageTiming } from '../../../src/core/events.js';
import type { RgbImage } from '../../../src/core/image.js';
import { decodeImage } from '../../../src/inference/decode.js';
import { boxArea } from '../../../src/inference/detector.js';
import { analyseImage, closeFaceNetworks, openFaceNetworks, type AnalysedFace, type AnalyseOptions, type FaceNetworks } from '../../../src/inference/pipeline.js';
import { closeAllModels } from '../../../src/inference/onnx-runtime.js';
import { lfwPeople } from '../../helpers/lfw.js';

const people = lfwPeople(1);
const describeWithLfw = people ? describe : describe.skip;
if (!people) console.warn('pipeline.test.ts skipped: no LFW dev photos at ../shared/datasets/lfw/dev');

/** Two people side by side on a white canvas, the second shrunk: its face is not the largest. */
async function twoPeople(large: string, small: string): Promise<RgbImage> {
  const shrunk = await sharp(small).resize(170, 170).toBuffer();
  const canvas = sharp({ create: { width: 440, height: 250, channels: 3, background: { r: 255, g: 255, b: 255 } } }).composite([
    { input: large, left: 0, top: 0 },
    { input: shrunk, left: 260, top: 40 },
  ]);
  return decodeImage(await canvas.png().toBuffer());
}

describeWithLfw('the face stages on a photo of two people', () => {
  let networks: FaceNetworks;
  let image: RgbImage;
  let largest: AnalysedFace;
  let smaller: AnalysedFace;

  beforeAll(async () => {
    networks = await openFaceNetworks();
    image = await twoPeople(people![0].photos[0], people![1].photos[0]);
    const faces = await analyseImage(networks, image, { allFaces: true });
    expect(faces).toHaveLength(2);
    [largest, smaller] = [...faces].sort((a, b) => boxArea(b.box) - boxArea(a.box));
  }, 60_000);

  afterAll(async () => {
    await closeFaceNetworks(networks);
    await closeAllModels();
  });

  /** The faces analysed with `options`, and how many times each stage ran for them. */
  async function analysedCounting(options: AnalyseOptions): Promise<{ faces: AnalysedFace[]; runs: Partial<Record<InferenceStage, number>> }> {
    const runs: Partial<Record<InferenceStage, number>> = {};
    const count = (message: unknown): void => {
      const { stage } = message as StageTiming;
      runs[stage] = (runs[stage] ?? 0) + 1;
    };
    subscribe(stageChannel.name, count);
    try {
      return { faces: await analyseImage(networks, image, options), runs };
    } finally {
      unsubscribe(stageChannel.name, count);
    }
  }

  it('finds the face found before at a box that is not the largest face, running each network once', async () => {
    const { faces, runs } = await analysedCounting({ over: smaller.box });
    expect(runs).toEqual({ detect: 1, landmarks: 1, features: 1 });
    expect(faces).toHaveLength(1);
    expect(faces[0].box).toEqual(smaller.box);
    expect(faces[0].keypoints).toEqual(smaller.keypoints);
  });

  it('finds the largest face at its own box exactly as when the largest face is asked for', async () => {
    const asked = await analyseImage(networks, image);
    const { faces, runs } = await analysedCounting({ over: largest.box });
    expect(runs).toEqual({ detect: 1, landmarks: 1, features: 1 });
    expect(faces.map(({ otherFaces: _others, ...face }) => face)).toEqual(asked.map(({ otherFaces: _others, ...face }) => face));
  });

  it('finds no face at a box where none overlaps by half, and analyses none', async () => {
    const beside = { ...smaller.box, x: smaller.box.x + smaller.box.width * 0.7 };
    const { faces, runs } = await analysedCounting({ over: beside });
    expect(runs).toEqual({ detect: 1 });
    expect(faces).toEqual([]);
  });
});
