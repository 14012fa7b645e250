/**
 * Trains the 3DMM regressor head (identity features → the person's pooled [α, β]), deterministically,
 * and exports it as ONNX into the bundle.
 *   npm run train:regressor -- [--bundle models/lfw-facemesh-v2] [--extraction .cache/extract/train]
 *       [--labels .cache/labels/<bundle>.json] [--exclude-people <file>] [--seed 1]
 *       [--head discriminant|mlp] [--components 198] [--within-shrinkage 1] [--ridge 0.3] [--floor 1]
 *       [--hidden 512] [--epochs 40] (mlp) [--control shuffled-labels]
 * `discriminant` (default): the identity-keeping linear head of src/training/discriminant-head.ts;
 * `mlp`: the paper's MLP with the asymmetric Euclidean loss.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trainGradientHead } from '../../src/training/gradient-head.js';
import { applyHeadBatch, type RegressionHead } from '../../src/training/head.js';
import { trainDiscriminantHead } from '../../src/training/discriminant-head.js';
import { blockShrinkage, shrinkHeadOutputs } from '../../src/training/shrinkage.js';
import { mulberry32, shuffledIndices } from '../../src/training/random.js';
import type { Matrix } from '../../src/core/linear-algebra.js';
import { writeManifest, type BundleManifest } from '../../src/morphable/bundle.js';
import { loadExtraction } from '../extract/cache.js';
import { loadLabels, readPeopleList } from '../bundle/labels.js';
import { headToOnnx } from './export-head.js';
import { regressorRows, shufflePeopleLabels } from './regressor-data.js';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string', default: 'models/lfw-facemesh-v2' },
    extraction: { type: 'string', default: '.cache/extract/train' },
    labels: { type: 'string' },
    'exclude-people': { type: 'string' },
    seed: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '40' },
    hidden: { type: 'string', default: '512' },
    'learning-rate': { type: 'string', default: '0.0005' },
    'weight-decay': { type: 'string', default: '0.0001' },
    control: { type: 'string' },
    out: { type: 'string' },
    head: { type: 'string', default: 'discriminant' },
    components: { type: 'string', default: '198' },
    'within-shrinkage': { type: 'string', default: '1' },
    ridge: { type: 'string', default: '0.3' },
    // 1 keeps every direction's gain: the fused fr-feature-expo input loses identity at lower floors, fr-feature's does not care (docs/BENCHMARKS.md §44).
    floor: { type: 'string', default: '1' },
  },
});
const bundleDir = values.bundle!;
const manifestPath = join(bundleDir, 'manifest.json');
const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BundleManifest;
const labels = await loadLabels(values.labels ?? join('.cache', 'labels', `${manifest.id}.json`));
const excluded = new Set(values['exclude-people'] ? await readPeopleList(values['exclude-people']) : []);
const seed = Number(values.seed);
const extraction = await loadExtraction(values.extraction!);
if (extraction.featureNetwork !== manifest.preprocessing.featureNetwork) {
  throw new Error(`${values.extraction} holds ${extraction.featureNetwork} features, the bundle was built on ${String(manifest.preprocessing.featureNetwork)}: run train:bundle on this extraction`);
}
let rows = regressorRows(extraction, labels, excluded);
if (values.control === 'shuffled-labels') rows = shufflePeopleLabels(rows, mulberry32(seed + 1000));
else if (values.control) throw new Error(`unknown --control ${values.control}; training supports shuffled-labels`);
console.log(`training on ${rows.features.rows} photos of ${new Set(rows.people).size} people, ${rows.labels.cols} outputs`);

const started = Date.now();
const blocks = [{ start: 0, end: manifest.shape.components }, { start: manifest.shape.components, end: rows.labels.cols }];
const VALIDATION_FRACTION = 0.1;

/** Rows `indices` of `m`. */
function takeRows(m: Matrix<Float32Array>, indices: readonly number[]): Matrix<Float32Array> {
  const data = new Float32Array(indices.length * m.cols);
  indices.forEach((r, i) => data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
  return { rows: indices.length, cols: m.cols, data };
}

/** The paper's head: an MLP with the asymmetric Euclidean loss, early-stopped, then shrunk per block on held-out people. */
function trainMlpHead(): { head: RegressionHead; record: Record<string, unknown> } {
  const options = {
    epochs: Number(values.epochs),
    hiddenUnits: Number(values.hidden),
    learningRate: Number(values['learning-rate']),
    weightDecay: Number(values['weight-decay']),
    batchSize: 128,
    seed,
    validationFraction: VALIDATION_FRACTION,
    rowGroups: rows.people,
    patience: 8,
    onEpoch: (r: { epoch: number; trainLoss: number; validationLoss?: number }) =>
      console.log(`epoch ${r.epoch}: train ${r.trainLoss.toFixed(4)} validation ${r.validationLoss?.toFixed(4)}`),
  };
  const trained = trainGradientHead(rows.features, rows.labels, options);
  // Shape and texture blocks shrunk to the scale that best fits the held-out people's labels.
  const heldRows = Array.from(trained.validationRows);
  const shrinkage = values.control ? [1, 1] : blockShrinkage(applyHeadBatch(trained.head, takeRows(rows.features, heldRows)), takeRows(rows.labels, heldRows), blocks);
  console.log(`best epoch ${trained.bestEpoch}; output shrinkage on held-out people: shape ${shrinkage[0].toFixed(3)}, texture ${shrinkage[1].toFixed(3)}`);
  return {
    head: shrinkHeadOutputs(trained.head, blocks, shrinkage),
    record: {
      head: 'mlp',
      ...Object.fromEntries(Object.entries(options).filter(([key]) => key !== 'onEpoch')),
      bestEpoch: trained.bestEpoch,
      outputShrinkage: { shape: shrinkage[0], texture: shrinkage[1] },
      loss: 'asymmetric Euclidean, λ1 = 1 (over-estimate), λ2 = 3 (under-estimate)',
    },
  };
}

/**
 * The identity-keeping linear head (src/training/discriminant-head.ts), fitted on 90% of the people;
 * then one shrinkage factor for all outputs fitted on the other 10%.
 */
function trainDiscriminant(): { head: RegressionHead; record: Record<string, unknown> } {
  const options = {
    components: Math.min(Number(values.components), rows.labels.cols),
    withinShrinkage: Number(values['within-shrinkage']),
    ridge: Number(values.ridge),
    floor: Number(values.floor),
  };
  const people = [...new Set(rows.people)];
  const order = shuffledIndices(people.length, mulberry32(seed));
  const validationPeople = new Set(Array.from(order.slice(0, Math.round(people.length * VALIDATION_FRACTION)), (i) => people[i]));
  const fitRows = rows.people.flatMap((p, i) => (validationPeople.has(p) ? [] : [i]));
  const heldRows = rows.people.flatMap((p, i) => (validationPeople.has(p) ? [i] : []));
  const { head: fitted, report } = trainDiscriminantHead(takeRows(rows.features, fitRows), fitRows.map((i) => rows.people[i]), takeRows(rows.labels, fitRows), options);
  // One factor for all outputs: the vector's direction, hence its cosine to others, stays as fitted
  // (a factor per block would re-weight shape against texture and cost identity).
  const whole = [{ start: 0, end: rows.labels.cols }];
  const [factor] = values.control ? [1] : blockShrinkage(applyHeadBatch(fitted, takeRows(rows.features, heldRows)), takeRows(rows.labels, heldRows), whole);
  const shrinkage = [factor, factor];
  const s = report.singularValues;
  console.log(`ridge map singular values ${s[0].toFixed(4)} … ${s.at(-1)!.toFixed(5)}, floored at ${(options.floor * s[0]).toFixed(4)}; output shrinkage on held-out people: ${factor.toFixed(3)}`);
  return {
    head: shrinkHeadOutputs(fitted, whole, [factor]),
    record: {
      head: 'discriminant',
      ...options,
      validationFraction: VALIDATION_FRACTION,
      rowGroups: rows.people,
      outputShrinkage: { shape: shrinkage[0], texture: shrinkage[1] },
      singularValueRange: [s[0], s.at(-1)],
      loss: 'least squares (ridge) to the pooled labels on the principal directions of the person means, singular values floored',
    },
  };
}

const { head, record } = values.head === 'mlp' ? trainMlpHead() : trainDiscriminant();
const seconds = (Date.now() - started) / 1000;
const fileName = values.out ?? (values.control ? `regressor-control-${values.control}.onnx` : 'regressor.onnx');
await writeFile(join(bundleDir, fileName), headToOnnx(head, `face3d regressor head for bundle ${manifest.id}`));
console.log(`${seconds.toFixed(0)} s; wrote ${join(bundleDir, fileName)}`);
if (!values.control && !values.out) {
  const updated: BundleManifest = {
    ...manifest,
    regressor: { file: fileName, inputDim: rows.features.cols, outputDim: rows.labels.cols, featureNetwork: extraction.featureNetwork },
    training: {
      ...manifest.training,
      regressor: {
        photos: rows.features.rows,
        people: new Set(rows.people).size,
        excludedPeople: excluded.size,
        seed,
        ...record,
        seconds,
      },
    },
  };
  await writeManifest(bundleDir, updated);
}
