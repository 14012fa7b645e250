/**
 * Two estimates of the same photos' meshes against real depth, photo by photo (fidelity3d's
 * intervals are each estimate's own; a change smaller than their width can still be a change every
 * photo shares): per photo the depth RMSE of each mesh, posed on the photo's landmarks as fidelity3d
 * poses it, over the vertices where the truth is valid, planes removed; then the mean change with a
 * people-bootstrap interval, and how many photos and people got nearer the truth.
 */
import { quantile } from 'simple-statistics';
import type { DepthMap } from '../../src/dataset/depth-dataset.js';
import { posedDepth, removePlane, sampleDepth, type DepthPhoto } from '../../src/eval/depth-fidelity.js';
import { mulberry32, randomInt } from '../../src/training/random.js';

export interface PairedChange {
  readonly photos: number;
  readonly people: number;
  /** Mean over photos of (after − before) RMSE, px. */
  readonly meanChangePx: number;
  /** 2.5% and 97.5% points of the people-bootstrap of the mean of people's mean changes. */
  readonly interval: readonly [number, number];
  readonly photosNearer: number;
  readonly peopleNearer: number;
}

/** A photo's mesh against its person's real depth: RMSE (px) over every vertex with valid truth, planes removed. */
export function photoRmsePx(photo: DepthPhoto, truth: DepthMap): number {
  const raw = Float64Array.from({ length: photo.mesh.length / 3 }, (_, i) => sampleDepth(truth, photo.landmarks[3 * i], photo.landmarks[3 * i + 1]));
  const valid = Uint8Array.from(raw, (v) => (Number.isFinite(v) ? 1 : 0));
  const real = removePlane(raw, photo.landmarks, valid);
  const mesh = removePlane(posedDepth(photo.mesh, photo.landmarks, valid).depth, photo.landmarks, valid);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < valid.length; i++) if (valid[i]) { sum += (mesh[i] - real[i]) ** 2; n++; }
  return Math.sqrt(sum / n);
}

/** `before[k]` and `after[k]` are the same photo's two meshes. */
export function pairedRmseChange(before: readonly DepthPhoto[], after: readonly DepthPhoto[], truths: ReadonlyMap<string, DepthMap>, resamples = 2000): PairedChange {
  if (before.length !== after.length) throw new RangeError(`pairedRmseChange: ${before.length} photos before, ${after.length} after`);
  const changes = after.map((photo, k) => ({ person: photo.person, change: photoRmsePx(photo, truths.get(photo.person)!) - photoRmsePx(before[k], truths.get(before[k].person)!) }));
  const names = [...new Set(changes.map((c) => c.person))];
  const personMeans = names.map((name) => {
    const own = changes.filter((c) => c.person === name);
    return own.reduce((s, c) => s + c.change, 0) / own.length;
  });
  const random = mulberry32(14);
  const resampled = Array.from({ length: resamples }, () => names.reduce((s) => s + personMeans[randomInt(random, names.length)], 0) / names.length);
  return {
    photos: changes.length,
    people: names.length,
    meanChangePx: changes.reduce((s, c) => s + c.change, 0) / changes.length,
    interval: [quantile(resampled, 0.025), quantile(resampled, 0.975)],
    photosNearer: changes.filter((c) => c.change < 0).length,
    peopleNearer: personMeans.filter((m) => m < 0).length,
  };
}
