/**
 * Issue 14, idea 2c: chooses the shading refinement's settings on synthetic faces only
 * (`shading-synthetic.ts`: the model's mean face with random depth deviations of real size, rendered
 * Lambertian), never on real depth. Per setting: how much of the true deviation the refinement of
 * the mean face recovers (correlation, size ratio, RMSE after / before), per photo and pooled over a
 * person's photos under different lights, as the product pools them.
 *   npx tsc -p tsconfig.build.json && nice -n 10 node dist/tools/depth/shading-tune.js [--people 12] [--photos 5] [--light point|harmonic] [--seed 2026] [--albedo person|photo]
 *     [--grid full|default|'{"symmetric":true}'|'[{...}, {...}]']   (settings: `ShadingRefineOptions`)
 *     [--truth template|scan] [--ict ../shared/models3d/ict-facekit]
 * --truth scan: the true shapes are ICT-FaceKit scan shapes carried onto the template (`scan-truth.ts`),
 * so the template's own bias against real faces is part of the deviation to recover (the "pooled"
 * figures then measure the whole error; "less the others' mean" the person's own part).
 * A setting with "joint": true is the joint multi-photo fit (`JointRefineOptions`: one depth, an
 * albedo per triangle, a light per photo; "photos": how many it takes, by their lights' spread or,
 * with "choose": "first", the first ones), its
 * single-photo figures the joint fit of each photo alone; without, the mean of per-photo refinements.
 * "space": "scans" confines the joint fit's change to the scans' identity space carried onto the
 * template, about the scans' mean (`scan-truth.ts`'s `identitySpace`); "scans-own" about the
 * template's mean ("spacePrior": the modes' prior weight).
 */
import { parseArgs } from 'node:util';
import { jointShadingChange, photosByLighting, pooledShadingChange, shadingChange, type JointRefineOptions, type ShadingRefineOptions } from '../../src/morphable/shading-refine.js';
import { mulberry32 } from '../../src/training/random.js';
import { bundleMeanFace, meanFacePeople, type SyntheticLight } from './shading-synthetic.js';
import { loadScanModel, namedSpaceRule, scanSpaces, scanTruthPeople, type NamedSpaceOptions, type ScanModel } from './scan-truth.js';
import { compareDeviations, deviationRms, type DeviationComparison } from './shading-compare.js';

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
    albedo: { type: 'string', default: 'person' },
    truth: { type: 'string', default: 'template' },
    ict: { type: 'string', default: '../shared/models3d/ict-facekit' },
  },
});
const random = mulberry32(Number(values.seed));
/** Real faces' deviations from the mean: about 3.7 px at 1.47 px/mm (BENCHMARKS §23), 2.5 mm. */
const DEVIATION_MM = 2.5;
// --albedo person: one skin per person, in all their photos (as real skin); photo: each photo its own (§33, §42).
const peopleShape = { count: Number(values.people), photos: Number(values.photos), rmsMm: DEVIATION_MM, ownSkin: values.albedo === 'person' };
const photoOptions = { light: values.light as SyntheticLight, landmarkNoisePx: Number(values['landmark-noise']), pixelNoise: Number(values['pixel-noise']), albedoNoise: Number(values['albedo-noise']) };
// --truth scan: true shapes from ICT-FaceKit's scans carried onto the template (`scan-truth.ts`), so the template's own bias is part of what is to be recovered.
let scanModel: ScanModel | undefined;
const scans = async () => (scanModel ??= await loadScanModel(values.ict!));
const { mean, people, valid } = values.truth === 'scan'
  ? await (async () => {
    const mean = await bundleMeanFace();
    return { mean, ...scanTruthPeople(mean, await scans(), peopleShape, photoOptions, random) };
  })()
  : { ...(await meanFacePeople(peopleShape, photoOptions, random)), valid: undefined };
if (valid) {
  const others = people.map((person, p) => {
    const rest = people.filter((_, q) => q !== p);
    return person.deviation.map((d, i) => d - rest.reduce((s, o) => s + o.deviation[i], 0) / rest.length);
  });
  const meanRms = (list: readonly Float64Array[]) => (list.reduce((s, d) => s + deviationRms(mean, d, valid), 0) / list.length).toFixed(2);
  console.log(`scan truth: ${valid.reduce((s, v) => s + v, 0)} of ${valid.length} vertices carried; depth RMS (planes out) of the template against the truth ${meanRms(people.map((p) => p.deviation))} mm, of the truth against the others' mean truth ${meanRms(others)} mm (rmse× 1 = the template)`);
}

const average = (rows: readonly ArrayLike<number>[]): Float64Array => Float64Array.from(rows[0], (_, c) => rows.reduce((s, row) => s + row[c], 0) / rows.length);

/**
 * Per photo and pooled per person, the change against the true deviation; and, as fidelity3d
 * measures, both less the mean of the other people's (a change every face gets is no one's own).
 */
/** "choose": "first" takes a person's first photos (the synthetic ones are all near-frontal: any k of them) instead of by their lights' spread. */
type TuneSetting = (ShadingRefineOptions & { joint?: false }) | (NamedSpaceOptions & { joint: true; choose?: 'lighting' | 'first' });

const spaceOf = scanSpaces(mean, scans);

function evaluate(setting: TuneSetting, rule?: JointRefineOptions['rule']): Record<'single' | 'pooled' | 'pooledLeaveOneOut', DeviationComparison> {
  const options = setting.joint ? { ...setting, rule } : setting;
  const single: DeviationComparison[] = [];
  const pooled: DeviationComparison[] = [];
  const changes = people.map((person) => person.photos.map((photo) => (options.joint ? jointShadingChange(mean, [photo], options) : shadingChange(mean, photo, options))));
  const personChanges = options.joint
    ? people.map((person) => {
      const order = options.choose === 'first' ? [...person.photos.keys()] : photosByLighting(mean, person.photos, options.order);
      return jointShadingChange(mean, order.slice(0, options.photos).map((k) => person.photos[k]), options);
    })
    : changes.map((photos) => pooledShadingChange(photos, options.symmetric));
  people.forEach((person, p) => {
    for (const change of changes[p]) single.push(compareDeviations(mean, person.deviation, change, valid));
    pooled.push(compareDeviations(mean, person.deviation, personChanges[p], valid));
  });
  const leaveOneOut = people.map((person, p) => {
    const others = people.map((_, q) => q).filter((q) => q !== p);
    const truth = average(others.map((q) => people[q].deviation)).map((v, i) => person.deviation[i] - v);
    const change = average(others.map((q) => personChanges[q])).map((v, c) => personChanges[p][c] - v);
    return compareDeviations(mean, truth, change, valid);
  });
  const summary = (list: DeviationComparison[]): DeviationComparison => ({
    correlation: list.reduce((s, d) => s + d.correlation, 0) / list.length,
    sizeRatio: list.reduce((s, d) => s + d.sizeRatio, 0) / list.length,
    rmseRatio: list.reduce((s, d) => s + d.rmseRatio, 0) / list.length,
  });
  return { single: summary(single), pooled: summary(pooled), pooledLeaveOneOut: summary(leaveOneOut) };
}

const grid: TuneSetting[] = values.grid === 'default'
  ? [{}]
  : /^[[{]/.test(values.grid)
    ? [JSON.parse(values.grid) as TuneSetting | TuneSetting[]].flat()
    : [1, 2].flatMap((order) => [0.003, 0.01, 0.03].flatMap((smoothness) => [0.0003, 0.001, 0.003].map((anchor) => ({ order: order as 1 | 2, smoothness, anchor }))));
for (const options of grid) {
  const started = Date.now();
  const result = evaluate(options, options.joint ? await namedSpaceRule(options, spaceOf) : undefined);
  const f = (d: DeviationComparison) => `r ${d.correlation.toFixed(3)} size ${d.sizeRatio.toFixed(2)} rmse×${d.rmseRatio.toFixed(3)}`;
  console.log(`${JSON.stringify(options)}  single: ${f(result.single)} | pooled: ${f(result.pooled)} | pooled, less the others' mean: ${f(result.pooledLeaveOneOut)}  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
