/**
 * The discriminant head's `--floor` chosen on train people only: the head is fitted on 85% of the
 * labelled people of an extraction and its regressed vectors measured on the other 15% (same-person
 * pairs; rank-1 of their later photos against their first and the one-photo people) against the
 * impostor pairs of the one-photo people, for each floor, beside the input features themselves.
 * No dev photo is read (docs/BENCHMARKS.md §44: a 704-d fused input needs another floor than fr-feature).
 *   node dist/tools/train/head-floor.js [--extraction .cache/extract/train] [--labels .cache/labels/lfw-facemesh-v2.json]
 *     [--floors 0.02,0.1,0.3,1] [--seed 7]
 */
import { parseArgs } from 'node:util';
import type { Matrix } from '../../src/core/linear-algebra.js';
import { trainDiscriminantHead } from '../../src/training/discriminant-head.js';
import { applyHeadBatch, unitRows } from '../../src/training/head.js';
import { mulberry32, shuffledIndices } from '../../src/training/random.js';
import { loadLabels } from '../bundle/labels.js';
import { loadExtraction } from '../extract/cache.js';
import { regressorRows } from './regressor-data.js';

const { values } = parseArgs({
  options: {
    extraction: { type: 'string', default: '.cache/extract/train' },
    labels: { type: 'string', default: '.cache/labels/lfw-facemesh-v2.json' },
    floors: { type: 'string', default: '0.02,0.1,0.3,1' },
    seed: { type: 'string', default: '7' },
  },
});
const HELD_OUT_SHARE = 0.15;

function takeRows(m: Matrix<Float32Array>, indices: readonly number[]): Matrix<Float32Array> {
  const data = new Float32Array(indices.length * m.cols);
  indices.forEach((r, i) => data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
  return { rows: indices.length, cols: m.cols, data };
}

function dot(a: Matrix<Float32Array>, i: number, b: Matrix<Float32Array>, j: number): number {
  let sum = 0;
  for (let c = 0; c < a.cols; c++) sum += a.data[i * a.cols + c] * b.data[j * b.cols + c];
  return sum;
}

const extraction = await loadExtraction(values.extraction);
const rows = regressorRows(extraction, await loadLabels(values.labels));
const people = [...new Set(rows.people)];
const order = shuffledIndices(people.length, mulberry32(Number(values.seed)));
const heldPeople = new Set(Array.from(order.slice(0, Math.round(people.length * HELD_OUT_SHARE)), (i) => people[i]));
const fitRows = rows.people.flatMap((p, i) => (heldPeople.has(p) ? [] : [i]));
const heldRows = rows.people.flatMap((p, i) => (heldPeople.has(p) ? [i] : []));
const photosOf = new Map<string, number>();
for (const face of extraction.faces) photosOf.set(face.person, (photosOf.get(face.person) ?? 0) + 1);
const singleRows = extraction.faces.flatMap((face, row) => (photosOf.get(face.person) === 1 ? [row] : []));
const dim = extraction.featureDim;
const singles: Matrix<Float32Array> = { rows: singleRows.length, cols: dim, data: new Float32Array(singleRows.length * dim) };
singleRows.forEach((row, i) => singles.data.set(extraction.features.subarray(row * dim, (row + 1) * dim), i * dim));
const heldPerson = heldRows.map((r) => rows.people[r]);

/** TAR at FAR 0.1% and 1e-4 of the one-photo people's impostor pairs, and rank-1, of unit vectors. */
function measure(heldVectors: Matrix, singleVectors: Matrix): { tar01: number; tar1e4: number; rank1: number; genuine: number; impostors: number; probes: number } {
  const held = unitRows(heldVectors);
  const others = unitRows(singleVectors);
  const impostors: number[] = [];
  for (let i = 0; i < others.rows; i++) for (let j = i + 1; j < others.rows; j++) impostors.push(dot(others, i, others, j));
  const descending = Float32Array.from(impostors).sort().reverse();
  const [t01, t1e4] = [1e-3, 1e-4].map((far) => descending[Math.floor(far * descending.length)]);
  let genuine = 0;
  let above01 = 0;
  let above1e4 = 0;
  for (let i = 0; i < held.rows; i++) {
    for (let j = i + 1; j < held.rows; j++) {
      if (heldPerson[i] !== heldPerson[j]) continue;
      const s = dot(held, i, held, j);
      genuine++;
      if (s > t01) above01++;
      if (s > t1e4) above1e4++;
    }
  }
  const enrolled = new Map<string, number>();
  heldPerson.forEach((person, i) => { if (!enrolled.has(person)) enrolled.set(person, i); });
  let probes = 0;
  let hits = 0;
  heldPerson.forEach((person, i) => {
    if (enrolled.get(person) === i) return;
    let best = { score: -Infinity, person: '' };
    for (const [other, row] of enrolled) {
      const s = dot(held, i, held, row);
      if (s > best.score) best = { score: s, person: other };
    }
    for (let k = 0; k < others.rows; k++) {
      const s = dot(held, i, others, k);
      if (s > best.score) best = { score: s, person: '' };
    }
    probes++;
    if (best.person === person) hits++;
  });
  return { tar01: above01 / genuine, tar1e4: above1e4 / genuine, rank1: hits / probes, genuine, impostors: impostors.length, probes };
}

const line = (name: string, m: ReturnType<typeof measure>): string => `| ${name} | ${m.tar01.toFixed(3)} | ${m.tar1e4.toFixed(3)} | ${m.rank1.toFixed(3)} |`;
const input = measure(takeRows(rows.features, heldRows), singles);
console.log(`${values.extraction} (${extraction.featureNetwork}, ${dim}-d): head fitted on ${people.length - heldPeople.size} people, measured on ${heldPeople.size} (${input.genuine} same-person pairs, ${input.probes} probes) against ${singleRows.length} one-photo people (${input.impostors} impostor pairs)`);
console.log('| vector | TAR @ FAR 0.1% | TAR @ FAR 1e-4 | rank-1 |\n|---|---:|---:|---:|');
console.log(line('input features', input));
for (const floor of values.floors.split(',').map(Number)) {
  const { head } = trainDiscriminantHead(takeRows(rows.features, fitRows), fitRows.map((i) => rows.people[i]), takeRows(rows.labels, fitRows), { components: 198, withinShrinkage: 1, ridge: 0.3, floor });
  console.log(line(`head, floor ${floor}`, measure(applyHeadBatch(head, takeRows(rows.features, heldRows)), applyHeadBatch(head, singles))));
}
