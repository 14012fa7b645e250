/**
 * Issue 14, idea 2c: chooses the shading refinement's settings on synthetic faces only
 * (`shading-synthetic.ts`: the model's mean face with random depth deviations of real size, rendered
 * Lambertian), never on real depth. Per setting: how much of the true deviation the refinement of
 * the mean face recovers (correlation, size ratio, RMSE after / before), per photo and pooled over a
 * person's photos under different lights, as the product pools them.
 *   npx tsc -p tsconfig.build.json && nice -n 10 node dist/tools/depth/shading-tune.js [--people 12] [--photos 5] [--light point|harmonic] [--seed 2026]
 *     [--grid full|default|'{"symmetric":true}'|'[{...}, {...}]']   (settings: `ShadingRefineOptions`)
 */
import { parseArgs } from 'node:util';
import { defaultBundleDir } from '../../src/inference/face-encoder.js';
import { loadBundle, neutralShape } from '../../src/morphable/bundle.js';
import { pooledShadingChange, shadingChange, type ShadingRefineOptions } from '../../src/morphable/shading-refine.js';
import { mulberry32 } from '../../src/training/random.js';
import { faceWithDepth, photographShaded, randomDepthDeviation, type SyntheticLight } from './shading-synthetic.js';
import { compareDeviations, type DeviationComparison } from './shading-compare.js';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '12' },
    photos: { type: 'string', default: '5' },
    light: { type: 'string', default: 'point' },
    grid: { type: 'string', default: 'full' },
    seed: { type: 'string', default: '2026' },
    'landmark-noise': { type: 'string', default: '0.7' },
    'albedo-noise': { type: 'string', default: '0.08' },
    'pixel-noise': { type: 'string', default: '0.01' },
  },
});
const bundle = await loadBundle(defaultBundleDir());
const mean = neutralShape(bundle, new Float32Array(bundle.shape.basis.rows));
const random = mulberry32(Number(values.seed));
/** Real faces' deviations from the mean: about 3.7 px at 1.47 px/mm (BENCHMARKS §23), 2.5 mm. */
const DEVIATION_MM = 2.5;
const people = Array.from({ length: Number(values.people) }, () => {
  const deviation = randomDepthDeviation(bundle.shape.basis, DEVIATION_MM, random);
  const shape = faceWithDepth(mean, deviation);
  const photos = Array.from({ length: Number(values.photos) }, () => photographShaded(shape, { light: values.light as SyntheticLight, landmarkNoisePx: Number(values['landmark-noise']), pixelNoise: Number(values['pixel-noise']), albedoNoise: Number(values['albedo-noise']) }, random));
  return { deviation, photos };
});

const average = (rows: readonly ArrayLike<number>[]): Float64Array => Float64Array.from(rows[0], (_, c) => rows.reduce((s, row) => s + row[c], 0) / rows.length);

/**
 * Per photo and pooled per person, the change against the true deviation; and, as fidelity3d
 * measures, both less the mean of the other people's (a change every face gets is no one's own).
 */
function evaluate(options: ShadingRefineOptions): Record<'single' | 'pooled' | 'pooledLeaveOneOut', DeviationComparison> {
  const single: DeviationComparison[] = [];
  const pooled: DeviationComparison[] = [];
  const changes = people.map((person) => person.photos.map((photo) => shadingChange(mean, photo, options)));
  const personChanges = changes.map((photos) => pooledShadingChange(photos, options.symmetric));
  people.forEach((person, p) => {
    for (const change of changes[p]) single.push(compareDeviations(mean, person.deviation, change));
    pooled.push(compareDeviations(mean, person.deviation, personChanges[p]));
  });
  const leaveOneOut = people.map((person, p) => {
    const others = people.map((_, q) => q).filter((q) => q !== p);
    const truth = average(others.map((q) => people[q].deviation)).map((v, i) => person.deviation[i] - v);
    const change = average(others.map((q) => personChanges[q])).map((v, c) => personChanges[p][c] - v);
    return compareDeviations(mean, truth, change);
  });
  const summary = (list: DeviationComparison[]): DeviationComparison => ({
    correlation: list.reduce((s, d) => s + d.correlation, 0) / list.length,
    sizeRatio: list.reduce((s, d) => s + d.sizeRatio, 0) / list.length,
    rmseRatio: list.reduce((s, d) => s + d.rmseRatio, 0) / list.length,
  });
  return { single: summary(single), pooled: summary(pooled), pooledLeaveOneOut: summary(leaveOneOut) };
}

const grid: ShadingRefineOptions[] = values.grid === 'default'
  ? [{}]
  : /^[[{]/.test(values.grid)
    ? [JSON.parse(values.grid) as ShadingRefineOptions | ShadingRefineOptions[]].flat()
    : [1, 2].flatMap((order) => [0.003, 0.01, 0.03].flatMap((smoothness) => [0.0003, 0.001, 0.003].map((anchor) => ({ order: order as 1 | 2, smoothness, anchor }))));
for (const options of grid) {
  const started = Date.now();
  const result = evaluate(options);
  const f = (d: DeviationComparison) => `r ${d.correlation.toFixed(3)} size ${d.sizeRatio.toFixed(2)} rmse×${d.rmseRatio.toFixed(3)}`;
  console.log(`${JSON.stringify(options)}  single: ${f(result.single)} | pooled: ${f(result.pooled)} | pooled, less the others' mean: ${f(result.pooledLeaveOneOut)}  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
