/**
 * The detector at the service's input size and FaceMesh's second pass, on real LFW faces through the
 * real networks (skipped when the dataset is absent).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import type { RgbImage } from '../../../src/core/image.js';
import { decodeImage } from '../../../src/inference/decode.js';
import { intersectionOverUnion, type Detection } from '../../../src/inference/detect-decode.js';
import { centralDetection, detectFaces, DETECTOR_INPUT_SIZE } from '../../../src/inference/detector.js';
import { detectLandmarks, LANDMARK_INPUT_SIZE, landmarksInRegion, regionFromDetection, regionFromLandmarks } from '../../../src/inference/landmarks.js';
import { openNetwork, type ImageNetwork } from '../../../src/inference/networks.js';
import { closeAllModels } from '../../../src/inference/onnx-runtime.js';
import { lfwPeople } from '../../helpers/lfw.js';

const people = lfwPeople(2);
const describeWithLfw = people ? describe : describe.skip;
if (!people) console.warn('landmarks.test.ts skipped: no LFW dev photos at ../shared/datasets/lfw/dev');

describeWithLfw('the face stages on LFW faces', () => {
  let detector: ImageNetwork;
  let fullSizeDetector: ImageNetwork;
  let mesh: ImageNetwork;
  let images: RgbImage[];

  beforeAll(async () => {
    [detector, fullSizeDetector, mesh] = await Promise.all([openNetwork('blazeface', DETECTOR_INPUT_SIZE), openNetwork('blazeface', 256), openNetwork('facemesh', LANDMARK_INPUT_SIZE)]);
    images = await Promise.all(people!.slice(0, 4).map(async (person) => decodeImage(await readFile(person.photos[0]))));
  }, 60_000);
  afterAll(async () => {
    await Promise.all([detector.close(), fullSizeDetector.close(), mesh.close()]);
    await closeAllModels();
  });

  const central = async (network: ImageNetwork, image: RgbImage): Promise<Detection> => centralDetection(await detectFaces(network, image), image.width, image.height)!;

  it('the detector at its smaller input finds the face it finds at the 256² it was trained at', async () => {
    expect(DETECTOR_INPUT_SIZE).toBeLessThan(256);
    for (const image of images) {
      const [small, full] = await Promise.all([central(detector, image), central(fullSizeDetector, image)]);
      expect(intersectionOverUnion(small.box, full.box)).toBeGreaterThan(0.75);
    }
  });

  it("FaceMesh sure of a face from the detector's box reads it once; unsure, it reads it again from its own extent", async () => {
    for (const image of images) {
      const start = regionFromDetection(await central(detector, image));
      const first = await landmarksInRegion(mesh, image, start);
      const landmarks = await detectLandmarks(mesh, image, start);
      expect(first.confidence).toBeGreaterThan(0.9);
      expect(landmarks.passes).toBe(1);
      expect(landmarks.points).toEqual(first.points);
    }
    // A crop of the photo's corner holds no face: FaceMesh is unsure and takes its second pass.
    const image = images[0];
    const corner = { centerX: image.width * 0.12, centerY: image.height * 0.12, side: image.width * 0.24, angle: 0 };
    const unsure = await landmarksInRegion(mesh, image, corner);
    expect(unsure.confidence).toBeLessThan(0.5);
    const landmarks = await detectLandmarks(mesh, image, corner);
    expect(landmarks.passes).toBe(2);
    expect(landmarks.points).toEqual((await landmarksInRegion(mesh, image, regionFromLandmarks(unsure.points))).points);
  });
});
