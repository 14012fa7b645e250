import type { Box, Point2 } from '../core/image.js';

/** BlazeFace's six keypoints, in the order the network emits them (the subject's right eye first). */
export const BLAZEFACE_KEYPOINTS = ['rightEye', 'leftEye', 'noseTip', 'mouth', 'rightEarTragion', 'leftEarTragion'] as const;

export interface Detection {
  readonly box: Box;
  readonly score: number;
  readonly keypoints: readonly Point2[];
}

/** One BlazeFace output head: per anchor a logit and 16 regressors (box centre, size, 6 keypoints). */
export interface DetectorHead {
  readonly logits: Float32Array;
  readonly regressors: Float32Array;
  readonly stride: number;
  readonly anchorsPerCell: number;
}

const REGRESSORS_PER_ANCHOR = 16;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Turns raw head outputs (in the network's input pixels) into scored boxes above `minScore`.
 * Anchors are the centres of each stride's grid cells, as BlazeFace was trained with.
 */
export function decodeDetections(heads: readonly DetectorHead[], inputSize: number, minScore: number): Detection[] {
  const detections: Detection[] = [];
  for (const head of heads) {
    const cells = Math.ceil(inputSize / head.stride);
    let anchor = 0;
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        const ax = head.stride * (gx + 0.5);
        const ay = head.stride * (gy + 0.5);
        for (let k = 0; k < head.anchorsPerCell; k++, anchor++) {
          const score = sigmoid(head.logits[anchor]);
          if (score < minScore) continue;
          const r = head.regressors.subarray(anchor * REGRESSORS_PER_ANCHOR, (anchor + 1) * REGRESSORS_PER_ANCHOR);
          const cx = ax + r[0];
          const cy = ay + r[1];
          const keypoints: Point2[] = [];
          for (let p = 0; p < BLAZEFACE_KEYPOINTS.length; p++) {
            keypoints.push({ x: ax + r[4 + 2 * p], y: ay + r[5 + 2 * p] });
          }
          detections.push({ box: { x: cx - r[2] / 2, y: cy - r[3] / 2, width: r[2], height: r[3] }, score, keypoints });
        }
      }
    }
  }
  return detections;
}

export function intersectionOverUnion(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const intersection = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * Weighted non-maximum suppression (BlazeFace's own post-processing): overlapping detections of one
 * face are averaged by score instead of dropped, which steadies the box between photos.
 */
export function weightedNonMaxSuppression(detections: readonly Detection[], iouThreshold: number): Detection[] {
  const remaining = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  while (remaining.length > 0) {
    const best = remaining[0];
    const cluster = remaining.filter((d) => intersectionOverUnion(best.box, d.box) >= iouThreshold);
    const rest = remaining.filter((d) => intersectionOverUnion(best.box, d.box) < iouThreshold);
    kept.push(averageDetections(cluster, best.score));
    remaining.length = 0;
    remaining.push(...rest);
  }
  return kept;
}

function averageDetections(cluster: readonly Detection[], score: number): Detection {
  const total = cluster.reduce((sum, d) => sum + d.score, 0);
  const mean = (pick: (d: Detection) => number) => cluster.reduce((sum, d) => sum + pick(d) * d.score, 0) / total;
  const box = { x: mean((d) => d.box.x), y: mean((d) => d.box.y), width: mean((d) => d.box.width), height: mean((d) => d.box.height) };
  const keypoints = cluster[0].keypoints.map((_, i) => ({ x: mean((d) => d.keypoints[i].x), y: mean((d) => d.keypoints[i].y) }));
  return { box, score, keypoints };
}
