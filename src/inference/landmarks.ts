import type { Point2, RgbImage } from '../core/image.js';
import { cropToImage, sampleRegion, type SquareRegion } from './crop.js';
import type { Detection } from './detect-decode.js';
import { inferWritten, type ImageNetwork } from './networks.js';
import { FACEMESH_LANDMARKS, FACEMESH_VERTEX_COUNT } from '../morphable/facemesh-topology.js';

/** MediaPipe FaceMesh: 468 points from a 192x192 crop of RGB in 0..1. */
export const LANDMARK_INPUT_SIZE = 192;
export const LANDMARK_COUNT = FACEMESH_VERTEX_COUNT;

export interface FaceLandmarks {
  /** 468 x (x, y, z) in photo pixels; z is depth relative to the face centre, same scale as x. */
  readonly points: Float32Array;
  /** FaceMesh's own face-presence probability for the crop. */
  readonly confidence: number;
  /** The crop the points were read from. */
  readonly region: SquareRegion;
  /** FaceMesh passes whose crop was kept (1: the first was sure; 2: re-read from the first's own extent). */
  readonly passes: 1 | 2;
}

/** FaceMesh was trained on crops 1.5 times the face's extent, levelled by the eye line. */
const MESH_CROP_SCALE = 1.5;
/** BlazeFace boxes are tighter than the landmark extent. */
const DETECTION_CROP_SCALE = 1.7;

function eyeLineAngle(rightEye: Point2, leftEye: Point2): number {
  return Math.atan2(leftEye.y - rightEye.y, leftEye.x - rightEye.x);
}

export function regionFromDetection(detection: Detection): SquareRegion {
  const [rightEye, leftEye] = detection.keypoints;
  const { box } = detection;
  return {
    centerX: box.x + box.width / 2,
    centerY: box.y + box.height / 2,
    side: Math.max(box.width, box.height) * DETECTION_CROP_SCALE,
    angle: eyeLineAngle(rightEye, leftEye),
  };
}

function meshPoint(points: Float32Array, index: number): Point2 {
  return { x: points[index * 3], y: points[index * 3 + 1] };
}

/** The crop FaceMesh itself would track with: the landmarks' extent in the eye-levelled frame. */
export function regionFromLandmarks(points: Float32Array): SquareRegion {
  const rightEye = meshPoint(points, FACEMESH_LANDMARKS.rightEyeOuterCorner);
  const leftEye = meshPoint(points, FACEMESH_LANDMARKS.leftEyeOuterCorner);
  const angle = eyeLineAngle(rightEye, leftEye);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  let minU = Infinity, maxU = -Infinity, minV = Infinity, maxV = -Infinity;
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    const x = points[i * 3];
    const y = points[i * 3 + 1];
    const u = cos * x + sin * y;
    const v = -sin * x + cos * y;
    minU = Math.min(minU, u); maxU = Math.max(maxU, u);
    minV = Math.min(minV, v); maxV = Math.max(maxV, v);
  }
  const cu = (minU + maxU) / 2;
  const cv = (minV + maxV) / 2;
  return {
    centerX: cos * cu - sin * cv,
    centerY: sin * cu + cos * cv,
    side: Math.max(maxU - minU, maxV - minV) * MESH_CROP_SCALE,
    angle,
  };
}

/** FaceMesh reads RGB in 0..1. */
const LANDMARK_VALUES = { scale: 1 / 255, offset: 0 };

/** Runs FaceMesh on one crop and maps its points back to photo pixels. */
export async function landmarksInRegion(network: ImageNetwork, image: RgbImage, region: SquareRegion): Promise<FaceLandmarks> {
  const out = await inferWritten(network, (item) => sampleRegion(image, region, LANDMARK_INPUT_SIZE, LANDMARK_VALUES, item));
  const mesh = out.mesh;
  const points = new Float32Array(LANDMARK_COUNT * 3);
  const depthScale = region.side / LANDMARK_INPUT_SIZE;
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    const p = cropToImage(region, LANDMARK_INPUT_SIZE, mesh[i * 3], mesh[i * 3 + 1]);
    points[i * 3] = p.x;
    points[i * 3 + 1] = p.y;
    points[i * 3 + 2] = mesh[i * 3 + 2] * depthScale;
  }
  return { points, confidence: out.faceFlag[0], region, passes: 1 };
}

/** Below this face probability, the first pass is tried again on an upright crop. */
const UNSURE_FACE = 0.5;

/**
 * At or above this face probability the first pass's landmarks are kept: on such faces the second
 * pass moves the identity crop too little to change verification (docs/BENCHMARKS.md §28), and it
 * costs a whole FaceMesh run. Below it (turned, tilted or cut-off faces) the second pass still runs.
 */
const CONFIDENT_FACE = 0.9;

/**
 * Landmarks for a detected face: a first pass from the detector's box, then, unless FaceMesh is
 * confident of it, a second from the first pass's own extent, which centres and levels the crop the
 * way FaceMesh was trained. On a turned head the detector's eye keypoints can coincide or swap, so
 * its eye line may tilt the crop far off: when FaceMesh is unsure of the first crop, an upright one
 * is tried too and the surer kept.
 */
export async function detectLandmarks(network: ImageNetwork, image: RgbImage, start: SquareRegion): Promise<FaceLandmarks> {
  let first = await landmarksInRegion(network, image, start);
  if (first.confidence < UNSURE_FACE && start.angle !== 0) {
    const upright = await landmarksInRegion(network, image, { ...start, angle: 0 });
    if (upright.confidence > first.confidence) first = upright;
  }
  if (first.confidence >= CONFIDENT_FACE) return first;
  return { ...(await landmarksInRegion(network, image, regionFromLandmarks(first.points))), passes: 2 };
}
