import type { Box, RgbImage } from '../core/image.js';
import { cropToImage, sampleRegion, wholeImageRegion, type SquareRegion } from './crop.js';
import { decodeDetections, intersectionOverUnion, weightedNonMaxSuppression, type Detection } from './detect-decode.js';
import { inferWritten, type ImageNetwork } from './networks.js';

/**
 * BlazeFace (MediaPipe's back-camera face detector, trained at 256²) as converted by `npm run
 * models:build`, which leaves its input size open. The service runs it at 160²: the smallest input
 * that keeps every LFW dev face and CFP's profiles with a margin (998 of 1,000 found, 3 only by the
 * profile bar; at 128² 995 and 19), at 0.39 of the pixels of 256² (docs/BENCHMARKS.md §28).
 */
export const DETECTOR_INPUT_SIZE = 160;

export interface DetectOptions {
  /** Faces scoring below this are not reported. */
  readonly minScore?: number;
  readonly iouThreshold?: number;
}

const DEFAULT_MIN_SCORE = 0.5;
const DEFAULT_IOU = 0.3;
/**
 * BlazeFace's anchors miss faces that fill the photo, as loosely cropped profiles do (14% of CFP's
 * profile photos): a second look at the photo shrunk into a square twice its side finds them.
 */
const SECOND_LOOK_PADDING = 2;
/**
 * Full profiles score lower than frontal faces: when neither look reaches `minScore`, the best
 * detection of both is taken down to this score. Blank, noise and tiny images stay below it
 * (docs/BENCHMARKS.md §24). At the 160² input a plain drawn room scored 0.42 and 2 of 200 random
 * drawn scenes 0.43 and 0.50, while CFP's profiles found only by this bar score 0.45–0.50 (§28).
 */
const PROFILE_MIN_SCORE = 0.45;
/**
 * Faces narrower than this, in photo pixels, are not reported: the zoomed-out look finds even a face
 * shrunk to a 20-pixel thumbnail, whose eyes are a few pixels apart, where enrollment's quality check
 * already calls 12 pixels between the outer eye corners harmful (src/gallery/quality.ts). Such a face
 * carries nothing to identify; NO_FACE says so instead of an answer made of upsampled blur.
 */
export const MIN_FACE_SIDE = 24;

/** BlazeFace reads pixel / 127.5 − 1. */
const DETECTOR_VALUES = { scale: 1 / 127.5, offset: -1 };

/**
 * The detector's outputs for the photo padded to a square `padding` times its longer side, at the
 * network's own input size (the converted BlazeFace runs at any: the anchor grids follow it).
 */
async function look(network: ImageNetwork, image: RgbImage, padding: number): Promise<{ region: SquareRegion; size: number; out: Readonly<Record<string, Float32Array>> }> {
  const size = network.itemDims[0];
  const whole = wholeImageRegion(image.width, image.height);
  const region = { ...whole, side: whole.side * padding };
  return { region, size, out: await inferWritten(network, (item) => sampleRegion(image, region, size, DETECTOR_VALUES, item)) };
}

/** The faces of one look scoring at least `minScore` and at least {@link MIN_FACE_SIDE} wide, in photo pixels, best first. */
function facesOf({ region, size, out }: Awaited<ReturnType<typeof look>>, minScore: number, iou: number): Detection[] {
  const heads = [
    { logits: out.scores16, regressors: out.regressors16, stride: 16, anchorsPerCell: 2 },
    { logits: out.scores32, regressors: out.regressors32, stride: 32, anchorsPerCell: 6 },
  ];
  const merged = weightedNonMaxSuppression(decodeDetections(heads, size, minScore), iou);
  const toImage = (x: number, y: number) => cropToImage(region, size, x, y);
  const inPhoto = merged.map((d) => {
    const topLeft = toImage(d.box.x, d.box.y);
    const bottomRight = toImage(d.box.x + d.box.width, d.box.y + d.box.height);
    const box: Box = { x: topLeft.x, y: topLeft.y, width: bottomRight.x - topLeft.x, height: bottomRight.y - topLeft.y };
    return { box, score: d.score, keypoints: d.keypoints.map((p) => toImage(p.x, p.y)) };
  });
  return inPhoto.filter(({ box }) => Math.min(box.width, box.height) >= MIN_FACE_SIDE);
}

/**
 * Finds every face: the photo is padded to a square (so faces keep their aspect) and scaled to the
 * detector's input. Without a face there, a second, zoomed-out look (faces filling the photo), and
 * then the best single detection of both looks above the profile bar. Returns detections in photo
 * pixels, best first; an empty list when there is none.
 */
export async function detectFaces(network: ImageNetwork, image: RgbImage, options: DetectOptions = {}): Promise<Detection[]> {
  const minScore = options.minScore ?? DEFAULT_MIN_SCORE;
  const iou = options.iouThreshold ?? DEFAULT_IOU;
  const first = await look(network, image, 1);
  const found = facesOf(first, minScore, iou);
  if (found.length > 0) return found;
  const second = await look(network, image, SECOND_LOOK_PADDING);
  const zoomedOut = facesOf(second, minScore, iou);
  if (zoomedOut.length > 0) return zoomedOut;
  const profileBar = Math.min(minScore, PROFILE_MIN_SCORE);
  const best = [...facesOf(first, profileBar, iou), ...facesOf(second, profileBar, iou)].sort((x, y) => y.score - x.score)[0];
  return best ? [best] : [];
}

export function boxArea(box: Box): number {
  return box.width * box.height;
}

/** The face users mean when they send a portrait: the largest one. */
export function largestDetection(detections: readonly Detection[]): Detection | undefined {
  return detections.reduce<Detection | undefined>((best, d) => (!best || boxArea(d.box) > boxArea(best.box) ? d : best), undefined);
}

/**
 * The face nearest the photo's centre: what a dataset of centred portraits (LFW) means by "the"
 * face, where a larger bystander can appear at the edge.
 */
export function centralDetection(detections: readonly Detection[], width: number, height: number): Detection | undefined {
  const distance = (d: Detection) => Math.hypot(d.box.x + d.box.width / 2 - width / 2, d.box.y + d.box.height / 2 - height / 2);
  return detections.reduce<Detection | undefined>((best, d) => (!best || distance(d) < distance(best) ? d : best), undefined);
}

/** A face found again is a face found before (a stored face's box) when their boxes overlap at least this much (intersection over union). */
const SAME_FACE_IOU = 0.5;

/**
 * The face found before at `box`: the largest of `detections` when it overlaps `box` by {@link SAME_FACE_IOU}
 * (the face a fresh enrollment takes), else the one overlapping it most, if any does by as much.
 */
export function detectionOver(detections: readonly Detection[], box: Box): Detection | undefined {
  const largest = largestDetection(detections);
  if (largest && intersectionOverUnion(largest.box, box) >= SAME_FACE_IOU) return largest;
  let best: Detection | undefined;
  let bestOverlap = SAME_FACE_IOU;
  for (const detection of detections) {
    const overlap = intersectionOverUnion(detection.box, box);
    if (overlap >= bestOverlap) [best, bestOverlap] = [detection, overlap];
  }
  return best;
}
