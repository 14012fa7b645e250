/** Training rows for the regressor: one per photo of a labelled person, label = the person's pooled [α, β]. */
import type { Extraction } from '../extract/cache.js';
import type { LabelFile } from '../bundle/labels.js';
import type { Matrix } from '../../src/core/linear-algebra.js';
import { shuffledIndices, type Random } from '../../src/training/random.js';

export interface RegressorRows {
  readonly features: Matrix<Float32Array>;
  readonly labels: Matrix<Float32Array>;
  /** Person of each row. */
  readonly people: readonly string[];
}

export function regressorRows(extraction: Extraction, labels: LabelFile, excluded: ReadonlySet<string> = new Set()): RegressorRows {
  const rowOfPath = new Map(extraction.faces.map((entry, row) => [entry.path, row]));
  const rows: { row: number; label: readonly number[]; person: string }[] = [];
  for (const label of labels.labels) {
    if (excluded.has(label.person)) continue;
    const target = [...label.shape, ...label.texture];
    for (const path of label.photos) {
      const row = rowOfPath.get(path);
      if (row !== undefined) rows.push({ row, label: target, person: label.person });
    }
  }
  const k = rows[0]?.label.length ?? 0;
  const dim = extraction.featureDim;
  const features = { rows: rows.length, cols: dim, data: new Float32Array(rows.length * dim) };
  const y = { rows: rows.length, cols: k, data: new Float32Array(rows.length * k) };
  rows.forEach((r, i) => {
    features.data.set(extraction.features.subarray(r.row * dim, (r.row + 1) * dim), i * dim);
    y.data.set(r.label, i * k);
  });
  return { features, labels: y, people: rows.map((r) => r.person) };
}

/** Labels permuted between people (each person keeps one consistent, wrong label): the shuffled-labels control. */
export function shufflePeopleLabels(rows: RegressorRows, random: Random): RegressorRows {
  const people = [...new Set(rows.people)];
  const firstRow = new Map<string, number>();
  rows.people.forEach((p, i) => { if (!firstRow.has(p)) firstRow.set(p, i); });
  const order = shuffledIndices(people.length, random);
  const donor = new Map(people.map((p, i) => [p, firstRow.get(people[order[i]])!]));
  const k = rows.labels.cols;
  const data = new Float32Array(rows.labels.data.length);
  rows.people.forEach((p, i) => data.set(rows.labels.data.subarray(donor.get(p)! * k, (donor.get(p)! + 1) * k), i * k));
  return { ...rows, labels: { rows: rows.labels.rows, cols: k, data } };
}
