/**
 * Which enrollment faces harm a template, measured on LFW train people only (issue 13; the levels of
 * src/gallery/quality.ts's AUTO filter, docs/BENCHMARKS.md §35). At the service's default threshold
 * for a gallery of `--templates` subjects:
 * - untouched photos, by quality issue: how often a one-photo template misses its person's other
 *   photos, and what the photo does to a quality-weighted template of that person's other photos;
 * - the same photos degraded step by step (smaller, blurred, darkened, washed out), by the measured
 *   value: where such templates stop carrying identity;
 * - photos with a second face: how often the largest face (the service's choice without a faceBox)
 *   is not the labelled, central one;
 * - probes, by quality issue: whether a poor probe draws more impostor scores.
 *   node dist/tools/eval/quality-harm.js [--root ../shared/datasets/lfw/train] [--photos-per-person 8]
 *     [--degraded 200] [--templates 690]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { config } from '../../src/core/config.js';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { cosineSimilarity, l2Normalise, meanTemplate, templateWeight } from '../../src/core/vector.js';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { EmbeddingSource } from '../../src/eval/embedding-source.js';
import { ThresholdPolicy } from '../../src/gallery/decision.js';
import { assessQuality, measureQuality, type FaceQuality, type QualityMeasures } from '../../src/gallery/quality.js';
import { decodeImage } from '../../src/inference/decode.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { mulberry32, shuffleInPlace } from '../../src/training/random.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/datasets/lfw/train' },
    'photos-per-person': { type: 'string', default: '8' },
    degraded: { type: 'string', default: '200' },
    templates: { type: 'string', default: '690' },
  },
});

interface Photo {
  readonly person: string;
  readonly image: string;
  readonly vector: Float32Array;
  readonly measures: QualityMeasures;
  readonly quality: FaceQuality;
}

const root = values.root!;
const source = await EmbeddingSource.open({ root, vector: 'regressed', faceBox: 'detect', select: 'central', inference: inferenceSettings(config()) });
const threshold = new ThresholdPolicy(source.encoder.bundle.manifest.calibration, config().targetFpir).forGallery(Number(values.templates)).value;
const people = (await listPeople(root)).filter((p) => p.images.length >= 2);
const wanted = people.flatMap((p) => p.images.slice(0, Number(values['photos-per-person'])).map((image) => ({ person: p.name, image })));
const encoded = await mapConcurrent(wanted, 4, async ({ person, image }): Promise<Photo | undefined> => {
  const v = await source.vectorOf(image);
  if ('error' in v) return undefined;
  const measures = measureQuality(v.image, v.face, v.face.otherFaces);
  return { person, image, vector: l2Normalise(v.vector), measures, quality: assessQuality(measures) };
});
const photos = encoded.filter((p): p is Photo => p !== undefined);
const byPerson = new Map<string, Photo[]>();
for (const photo of photos) byPerson.set(photo.person, [...(byPerson.get(photo.person) ?? []), photo]);
console.log(`${photos.length} train photos of ${byPerson.size} people (${wanted.length - photos.length} without a face), threshold ${threshold.toFixed(3)} (${values.templates} templates)`);

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const fixed = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;

/** Share of the person's other photos that a one-photo template of `vector` misses. */
function missRate(vector: Float32Array, others: readonly Photo[]): number {
  return mean(others.map((o) => (cosineSimilarity(vector, o.vector) < threshold ? 1 : 0)));
}

/**
 * `vector` added at `weight` to a quality-weighted template of the person's other photos, each held
 * out in turn as the probe: the mean change of the probe's genuine score, and of its misses.
 */
function addedToTemplate(vector: Float32Array, weight: number, others: readonly Photo[]): { genuine: number; misses: number } {
  const changes = others.flatMap((probe) => {
    const base = others.filter((o) => o !== probe);
    if (base.length === 0) return [];
    const weights = base.map((o) => templateWeight(o.quality.score));
    const before = cosineSimilarity(probe.vector, meanTemplate(base.map((o) => o.vector), weights));
    const after = cosineSimilarity(probe.vector, meanTemplate([...base.map((o) => o.vector), vector], [...weights, weight]));
    return [{ genuine: after - before, misses: Number(after < threshold) - Number(before < threshold) }];
  });
  return { genuine: mean(changes.map((c) => c.genuine)), misses: mean(changes.map((c) => c.misses)) };
}

/** Shares of other people's photos scoring at or above each level against `vector`. */
function impostorRates(vector: Float32Array, person: string, levels: readonly number[]): number[] {
  const above = levels.map(() => 0);
  let total = 0;
  for (const other of photos) {
    if (other.person === person) continue;
    total++;
    const score = cosineSimilarity(vector, other.vector);
    levels.forEach((level, i) => (above[i] += score >= level ? 1 : 0));
  }
  return above.map((count) => count / total);
}

const withIssue = (issue: string) => photos.filter((p) => (issue === 'none' ? p.quality.issues.length === 0 : (p.quality.issues as readonly string[]).includes(issue)));

const othersOf = (photo: { person: string; image: string }) => (byPerson.get(photo.person) ?? []).filter((o) => o.image !== photo.image);

console.log('\n## Untouched photos by issue (one-photo template; added to a weighted template of the others, weighted / unweighted)');
const issues = ['none', ...new Set(photos.flatMap((p) => p.quality.issues))];
for (const issue of issues) {
  const group = withIssue(issue);
  const misses = group.map((p) => missRate(p.vector, othersOf(p)));
  const withTemplate = group.filter((p) => othersOf(p).length >= 2);
  const weighted = withTemplate.map((p) => addedToTemplate(p.vector, templateWeight(p.quality.score), othersOf(p)));
  const unweighted = withTemplate.map((p) => addedToTemplate(p.vector, 1, othersOf(p)));
  const harmful = group.filter((p) => p.quality.harmful.length > 0).length;
  console.log(`${issue.padEnd(14)} photos ${String(group.length).padStart(5)}  refused by AUTO ${harmful}  miss ${fixed(mean(misses))}  added: Δgenuine ${signed(mean(weighted.map((w) => w.genuine)))} Δmiss ${signed(mean(weighted.map((w) => w.misses)))} / unweighted Δmiss ${signed(mean(unweighted.map((w) => w.misses)))}`);
}

console.log('\n## A second face: the largest (the service\'s choice without a faceBox) is not the labelled central face');
const ratios = photos.map((p) => p.measures.otherFaceSize).filter((r) => r > 0);
for (const level of [0.6, 0.7, 0.8, 0.9]) {
  const right = ratios.filter((r) => r >= level && r <= 1).length;
  const wrong = ratios.filter((r) => r > 1 && r <= 1 / level).length;
  console.log(`second face at ${level} of the largest or more: ${right + wrong} photos, the largest is another person in ${wrong} (${fixed(wrong / Math.max(1, right + wrong), 2)})`);
}

console.log('\n## Probes by issue: impostor pairs at or above 0.35 / 0.4, per million');
for (const issue of issues) {
  const group = withIssue(issue);
  const perProbe = group.map((p) => impostorRates(p.vector, p.person, [0.35, 0.4]));
  const rates = [0, 1].map((i) => 1e6 * mean(perProbe.map((r) => r[i])));
  console.log(`${issue.padEnd(14)} probes ${String(group.length).padStart(5)}  ${rates.map((r) => r.toFixed(0)).join(' / ')}`);
}

type Degradation = { readonly kind: string; readonly measure: keyof QualityMeasures; readonly edges: readonly number[]; readonly levels: readonly number[]; readonly apply: (photo: Buffer, level: number) => Promise<Buffer> };

async function smaller(photo: Buffer, scale: number): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(photo).metadata();
  const [w, h] = [Math.round(width * scale), Math.round(height * scale)];
  const small = await sharp(photo).resize(w, h).toBuffer();
  return sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite([{ input: small, left: Math.round((width - w) / 2), top: Math.round((height - h) / 2) }])
    .jpeg({ quality: 95 })
    .toBuffer();
}

const DEGRADATIONS: readonly Degradation[] = [
  { kind: 'smaller', measure: 'eyeDistance', edges: [0, 10, 12, 14, 16, 18, 20, 24, 28, 35], levels: [0.5, 0.35, 0.25, 0.18, 0.12], apply: smaller },
  { kind: 'blurred', measure: 'sharpness', edges: [0, 2, 4, 6, 8, 10, 12, 15, 20, 30, 45], levels: [1.5, 2.5, 3.5, 5, 7], apply: (photo, sigma) => sharp(photo).blur(sigma).jpeg({ quality: 95 }).toBuffer() },
  { kind: 'darkened', measure: 'brightness', edges: [0, 8, 10, 12, 14, 16, 18, 20, 25, 35, 50], levels: [0.4, 0.25, 0.15, 0.1, 0.06], apply: (photo, gain) => sharp(photo).linear(gain, 0).jpeg({ quality: 95 }).toBuffer() },
  // Contrast towards a grey level of 235: what overexposure does to a face before it clips.
  { kind: 'washed out', measure: 'brightness', edges: [190, 200, 205, 210, 215, 220, 225, 230, 245, 256], levels: [0.5, 0.35, 0.25, 0.15, 0.08], apply: (photo, contrast) => sharp(photo).linear(contrast, 235 * (1 - contrast)).jpeg({ quality: 95 }).toBuffer() },
];

const candidates = [...byPerson.values()].filter((p) => p.length >= 3).map((p) => p[0]).sort((a, b) => (a.person < b.person ? -1 : 1));
shuffleInPlace(candidates, mulberry32(29));
const originals = candidates.slice(0, Number(values.degraded));
console.log(`\n## ${originals.length} train photos degraded (the first photo of people with 3 or more), by the measured value`);
for (const degradation of DEGRADATIONS) {
  const jobs = originals.flatMap((original) => degradation.levels.map((level) => ({ original, level })));
  const results = await mapConcurrent(jobs, 4, async ({ original, level }) => {
    const bytes = await degradation.apply(await readFile(join(root, original.image)), level);
    const image = await decodeImage(bytes, inferenceSettings(config()).decodeLimits);
    const [face] = await source.encoder.encode(image, { select: 'central' });
    if (!face) return undefined;
    const measures = measureQuality(image, face, face.otherFaces);
    const vector = l2Normalise(face.vector.vector);
    const others = othersOf(original);
    return { value: measures[degradation.measure], miss: missRate(vector, others), impostors: impostorRates(vector, original.person, [0.4])[0], added: addedToTemplate(vector, templateWeight(assessQuality(measures).score), others) };
  });
  const found = results.filter((r): r is NonNullable<typeof r> => r !== undefined);
  console.log(`${degradation.kind} (${degradation.measure}), faces found in ${found.length} of ${jobs.length}:`);
  for (let i = 0; i + 1 < degradation.edges.length; i++) {
    const bin = found.filter((r) => r.value >= degradation.edges[i] && r.value < degradation.edges[i + 1]);
    if (bin.length === 0) continue;
    console.log(`  [${degradation.edges[i]}, ${degradation.edges[i + 1]}) n ${String(bin.length).padStart(4)}  miss ${fixed(mean(bin.map((r) => r.miss)))}  impostors >= 0.4 ${(1e6 * mean(bin.map((r) => r.impostors))).toFixed(0)}/M  added to a weighted template: Δgenuine ${signed(mean(bin.map((r) => r.added.genuine)))} Δmiss ${signed(mean(bin.map((r) => r.added.misses)))}`);
  }
}
await source.close();
