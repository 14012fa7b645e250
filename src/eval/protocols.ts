/**
 * The evaluation protocols behind `face3d eval`: verification on pairs, closed-set identification
 * with gallery templates, open-set identification as the service decides it, stability, and fidelity of one-photo vectors to a person's pooled fits.
 * Photos without a face count as errors, never silently dropped.
 */
import { cosineSimilarity, meanTemplate, templateWeight } from '../core/vector.js';
import { robustPool } from '../morphable/pooling.js';
import { splitHalfReliability } from '../morphable/pooling.js';
import { areaUnderCurve, equalErrorRate, identificationRates, NO_FACE_SCORE, rocCurve, stabilityRatio, tarAtFar, tenFoldAccuracy, type RocPoint, type ScoredPair } from './metrics.js';
import type { ImagePair } from '../dataset/folder-dataset.js';
import type { IdentifyEntry } from './pairs.js';
import type { EmbeddingSource } from './embedding-source.js';
import { mapConcurrent } from '../core/concurrency.js';
import type { FloatArray } from '../core/linear-algebra.js';
import { ThresholdPolicy } from '../gallery/decision.js';
import { GalleryIndex } from '../gallery/gallery-index.js';
import { assessQuality, measureQuality, refusedFor } from '../gallery/quality.js';
import type { QualityFilter } from '../store/enums.js';
import { atFpir, detCurve, operatingPoint, rank1, type MatedResult, type OpenSetPoint, type OpenSetSplit } from './open-set.js';
import type { SplitFigures } from './split-statistics.js';

const CONCURRENCY = 4;

export interface VerifyReport {
  readonly vector: string;
  readonly accuracy: number;
  readonly accuracyStd: number;
  readonly auc: number;
  readonly eer: number;
  readonly tarAtFar: { readonly '0.01': number; readonly '0.001': number };
  readonly thresholdAtFar: { readonly '0.01': number; readonly '0.001': number };
  readonly pairs: number;
  readonly failed: number;
  readonly seconds: number;
  readonly roc: RocPoint[];
}

export async function verifyPairs(source: EmbeddingSource, pairs: readonly ImagePair[]): Promise<VerifyReport> {
  const started = Date.now();
  const paths = [...new Set(pairs.flatMap((p) => [p.imageA, p.imageB]))];
  await mapConcurrent(paths, CONCURRENCY, (path) => source.vectorOf(path));
  const failedPhotos = new Set<string>();
  const scored: ScoredPair[] = [];
  for (const pair of pairs) {
    const [a, b] = await Promise.all([source.vectorOf(pair.imageA), source.vectorOf(pair.imageB)]);
    if ('error' in a) failedPhotos.add(pair.imageA);
    if ('error' in b) failedPhotos.add(pair.imageB);
    const score = 'vector' in a && 'vector' in b ? cosineSimilarity(a.vector, b.vector) : NO_FACE_SCORE;
    scored.push({ score, same: pair.same });
  }
  const tenFold = tenFoldAccuracy(scored);
  const far1 = tarAtFar(scored, 0.01);
  const far01 = tarAtFar(scored, 0.001);
  return {
    vector: source.describe(),
    accuracy: tenFold.mean,
    accuracyStd: tenFold.std,
    auc: areaUnderCurve(scored),
    eer: equalErrorRate(scored).rate,
    tarAtFar: { '0.01': far1.trueAcceptRate, '0.001': far01.trueAcceptRate },
    thresholdAtFar: { '0.01': far1.threshold, '0.001': far01.threshold },
    pairs: pairs.length,
    failed: failedPhotos.size,
    seconds: (Date.now() - started) / 1000,
    roc: rocCurve(scored),
  };
}

export interface IdentifyReport {
  readonly vector: string;
  readonly rank1: number;
  readonly rank5: number;
  readonly probes: number;
  readonly gallerySubjects: number;
  readonly failed: number;
  readonly seconds: number;
}

export async function identifyProbes(source: EmbeddingSource, entries: readonly IdentifyEntry[]): Promise<IdentifyReport> {
  const started = Date.now();
  const vectors = await mapConcurrent(entries, CONCURRENCY, (e) => source.vectorOf(e.image));
  const gallery = new Map<string, Float32Array[]>();
  let failed = 0;
  entries.forEach((entry, i) => {
    const v = vectors[i];
    if (entry.role !== 'gallery') return;
    if ('error' in v) failed++;
    else gallery.set(entry.subject, [...(gallery.get(entry.subject) ?? []), v.vector]);
  });
  const subjects = [...gallery.keys()];
  const templates = subjects.map((s) => meanTemplate(gallery.get(s)!));
  const probes = entries.map((e, i) => ({ e, v: vectors[i] })).filter(({ e }) => e.role === 'probe');
  const rows: Float64Array[] = [];
  const probeLabels: string[] = [];
  for (const { e, v } of probes) {
    // A probe without a face scores every subject alike: it is a miss, not a dropped probe.
    if ('error' in v) failed++;
    rows.push(Float64Array.from(templates, (t) => ('vector' in v ? cosineSimilarity(v.vector, t) : NO_FACE_SCORE)));
    probeLabels.push(e.subject);
  }
  const similarity = { rows: rows.length, cols: subjects.length, data: new Float64Array(rows.length * subjects.length) };
  rows.forEach((r, i) => similarity.data.set(r, i * subjects.length));
  const rates = identificationRates(similarity, probeLabels, subjects);
  return { vector: source.describe(), rank1: rates.rank1, rank5: rates.rank5, probes: probes.length, gallerySubjects: subjects.length, failed, seconds: (Date.now() - started) / 1000 };
}

/** Mean within-person / mean between-person cosine distance of one-photo vectors (lower is more stable). */
export function stability(vectors: readonly FloatArray[], people: readonly string[]): number {
  return stabilityRatio(vectors, people, { maxPairs: 20000, seed: 1 }).ratio;
}

export interface BlockFidelity {
  /** 1 − Σ(v − ref)² / Σ(ref − mean ref)², over people, photos and coefficients. */
  readonly r2: number;
  /** Root mean squared coefficient error, in σ units. */
  readonly rmse: number;
}

export interface FidelityComparison {
  readonly shape: BlockFidelity;
  readonly texture: BlockFidelity;
}

/** One photo's estimate against the reference pooled from that person's other photos. */
export interface FidelityCase {
  readonly estimate: { readonly shape: FloatArray; readonly texture: FloatArray };
  readonly reference: { readonly shape: FloatArray; readonly texture: FloatArray };
}

function blockFidelity(cases: readonly FidelityCase[], block: 'shape' | 'texture'): BlockFidelity {
  const k = cases[0].reference[block].length;
  const mean = new Float64Array(k);
  for (const c of cases) for (let j = 0; j < k; j++) mean[j] += c.reference[block][j] / cases.length;
  let residual = 0;
  let total = 0;
  for (const c of cases) {
    for (let j = 0; j < k; j++) {
      residual += (c.estimate[block][j] - c.reference[block][j]) ** 2;
      total += (c.reference[block][j] - mean[j]) ** 2;
    }
  }
  return { r2: 1 - residual / total, rmse: Math.sqrt(residual / (cases.length * k)) };
}

export function fidelity(cases: readonly FidelityCase[]): FidelityComparison {
  return { shape: blockFidelity(cases, 'shape'), texture: blockFidelity(cases, 'texture') };
}

export interface PhotoFits {
  readonly person: string;
  readonly shape: FloatArray;
  readonly texture: FloatArray;
  readonly confidence: number;
}

/** Leave-one-out references: each photo's person pooled (robustly) from their other photos. */
export function leaveOneOutReferences(fits: readonly PhotoFits[]): { shape: Float64Array; texture: Float64Array }[] {
  return fits.map((fit, i) => {
    const others = fits.filter((other, j) => j !== i && other.person === fit.person);
    const confidences = others.map((o) => o.confidence);
    return {
      shape: robustPool(others.map((o) => o.shape), confidences).pooled,
      texture: robustPool(others.map((o) => o.texture), confidences).pooled,
    };
  });
}

/** Split-half reliability of the references themselves (people with at least `minPhotos` photos). */
export function referenceReliability(fits: readonly PhotoFits[], minPhotos: number): { shape: number; texture: number; people: number } {
  const byPerson = new Map<string, PhotoFits[]>();
  for (const f of fits) byPerson.set(f.person, [...(byPerson.get(f.person) ?? []), f]);
  const people = [...byPerson.values()];
  const block = (key: 'shape' | 'texture') =>
    splitHalfReliability(people.map((p) => ({ vectors: p.map((f) => f[key]), confidences: p.map((f) => f.confidence) })), robustPool, minPhotos);
  const shape = block('shape');
  return { shape: shape.r2, texture: block('texture').r2, people: shape.peopleUsed };
}

export interface OpenSetOptions {
  readonly qualityFilter: QualityFilter;
  readonly targetFpir: number;
}

export interface OpenSetReport {
  readonly vector: string;
  readonly qualityFilter: QualityFilter;
  /** Subjects enrolled (a face found and accepted by the filter): the gallery's size. */
  readonly gallerySubjects: number;
  readonly matedProbes: number;
  readonly nonMatedProbes: number;
  readonly distractors: number;
  /** Enrollment photos without a face, and those the quality filter refused. */
  readonly enrollFailed: number;
  readonly enrollRefused: number;
  /** Mated people whose enrollment photo failed or was refused: their probe can only be a miss. */
  readonly matedNotEnrolled: number;
  readonly probesFailed: number;
  /** How many enrollment photos had each issue (whether refused or not), and how many were refused for each. */
  readonly qualityIssues: Readonly<Record<string, number>>;
  readonly refusedFor: Readonly<Record<string, number>>;
  readonly rank1: number;
  readonly tpirAtFpir: { readonly '0.01': number; readonly '0.001': number };
  readonly fnirAtFpir: { readonly '0.01': number; readonly '0.001': number };
  readonly thresholdAtFpir: { readonly '0.01': number; readonly '0.001': number };
  /** What the service's default decision gives on this gallery. */
  readonly defaultThreshold: {
    readonly value: number;
    readonly source: string;
    readonly targetFpir: number;
    /** FPIR the bundle's impostor curve predicts there (null without one). */
    readonly predictedFpir: number | null;
    readonly fpir: number;
    readonly tpir: number;
    readonly fnir: number;
    readonly strangersNamed: number;
  };
  readonly seconds: number;
  readonly det: OpenSetPoint[];
}

/**
 * Enrolls the split's mated and distractor photos into a {@link GalleryIndex} as the service does
 * (one face each, refused by the quality filter as the enrollment worker refuses it: other faces
 * count only when the source does not designate the face, see {@link EmbeddingSource.designatesFace}), searches
 * every probe's best template, and decides with the service's {@link ThresholdPolicy}.
 */
export async function openSetIdentification(source: EmbeddingSource, split: OpenSetSplit, options: OpenSetOptions): Promise<OpenSetReport> {
  const started = Date.now();
  const enrollments = [...split.mated.map((m) => ({ person: m.person, image: m.enrolled })), ...split.distractors.map((d) => ({ person: d.person, image: d.enrolled }))];
  const probes = [...split.mated.map((m) => ({ person: m.person, image: m.probe })), ...split.strangers.map((s) => ({ person: s.person, image: s.probe }))];
  await mapConcurrent([...enrollments, ...probes], CONCURRENCY, (entry) => source.vectorOf(entry.image));
  const bundleId = source.encoder.bundleId;
  let index: GalleryIndex | undefined;
  let enrollFailed = 0;
  let enrollRefused = 0;
  const qualityIssues: Record<string, number> = {};
  const refusals: Record<string, number> = {};
  for (const { person, image } of enrollments) {
    const v = await source.vectorOf(image);
    if ('error' in v) {
      enrollFailed++;
      continue;
    }
    const quality = assessQuality(measureQuality(v.image, v.face, source.designatesFace ? [] : v.face.otherFaces));
    for (const issue of quality.issues) qualityIssues[issue] = (qualityIssues[issue] ?? 0) + 1;
    const refused = refusedFor(options.qualityFilter, quality);
    for (const issue of refused) refusals[issue] = (refusals[issue] ?? 0) + 1;
    if (refused.length > 0) {
      enrollRefused++;
      continue;
    }
    index ??= new GalleryIndex(bundleId, v.vector.length);
    index.addFace({ faceId: image, subjectId: person, bundleId, vector: v.vector, weight: templateWeight(quality.score) });
  }
  if (!index) throw new RangeError('no enrollment photo was enrolled: no gallery to search');
  const gallery = index;
  let probesFailed = 0;
  const best = async (image: string) => {
    const v = await source.vectorOf(image);
    if ('error' in v) {
      probesFailed++;
      return undefined;
    }
    return gallery.search({ bundleId, vector: v.vector }, 1, 'TEMPLATE')[0];
  };
  const mated: MatedResult[] = [];
  for (const probe of probes.slice(0, split.mated.length)) {
    const candidate = await best(probe.image);
    mated.push({ score: candidate?.similarity ?? NO_FACE_SCORE, correct: candidate?.subjectId === probe.person });
  }
  const nonMated: number[] = [];
  for (const probe of probes.slice(split.mated.length)) nonMated.push((await best(probe.image))?.similarity ?? NO_FACE_SCORE);
  const scores = { mated, nonMated };
  const policy = new ThresholdPolicy(source.encoder.bundle.manifest.calibration, options.targetFpir);
  const threshold = policy.forGallery(gallery.subjectCount);
  const atDefault = operatingPoint(scores, threshold.value);
  const [at1, at01] = [atFpir(scores, 0.01), atFpir(scores, 0.001)];
  return {
    vector: source.describe(),
    qualityFilter: options.qualityFilter,
    gallerySubjects: gallery.subjectCount,
    matedProbes: mated.length,
    nonMatedProbes: nonMated.length,
    distractors: split.distractors.length,
    enrollFailed,
    enrollRefused,
    matedNotEnrolled: split.mated.filter((m) => gallery.template(m.person) === undefined).length,
    probesFailed,
    qualityIssues,
    refusedFor: refusals,
    rank1: rank1(scores),
    tpirAtFpir: { '0.01': at1.tpir, '0.001': at01.tpir },
    fnirAtFpir: { '0.01': at1.fnir, '0.001': at01.fnir },
    thresholdAtFpir: { '0.01': at1.threshold, '0.001': at01.threshold },
    defaultThreshold: {
      value: threshold.value,
      source: threshold.source,
      targetFpir: options.targetFpir,
      predictedFpir: threshold.fpir,
      fpir: atDefault.fpir,
      tpir: atDefault.tpir,
      fnir: atDefault.fnir,
      strangersNamed: nonMated.filter((s) => s >= threshold.value).length,
    },
    seconds: (Date.now() - started) / 1000,
    det: detCurve(scores),
  };
}

/** One split's figures, read from its report. */
function splitFigures(report: Omit<OpenSetReport, 'det'>): SplitFigures {
  return {
    rank1: report.rank1,
    tpirAtFpir1: report.tpirAtFpir['0.01'],
    tpirAtFpir01: report.tpirAtFpir['0.001'],
    thresholdAtFpir1: report.thresholdAtFpir['0.01'],
    thresholdAtFpir01: report.thresholdAtFpir['0.001'],
    defaultThreshold: report.defaultThreshold.value,
    defaultFpir: report.defaultThreshold.fpir,
    defaultTpir: report.defaultThreshold.tpir,
    gallerySubjects: report.gallerySubjects,
    enrollRefused: report.enrollRefused,
    matedNotEnrolled: report.matedNotEnrolled,
  };
}

export interface RepeatedOpenSet {
  readonly vector: string;
  readonly qualityFilter: QualityFilter;
  /** Each split's figures, in the splits' order. */
  readonly perSplit: SplitFigures[];
  /** Photos encoded: each once, whatever the number of splits it appears in. */
  readonly photos: number;
  readonly seconds: number;
}

/**
 * {@link openSetIdentification} on each split. Every photo of every split is encoded once up front
 * (the pipeline is the expensive part); each split then enrolls, searches and decides from the
 * source's cached vectors.
 */
export async function repeatedOpenSet(source: EmbeddingSource, splits: readonly OpenSetSplit[], options: OpenSetOptions): Promise<RepeatedOpenSet> {
  const started = Date.now();
  const photos = [...new Set(splits.flatMap((split) => [...split.mated.flatMap((m) => [m.enrolled, m.probe]), ...split.distractors.map((d) => d.enrolled), ...split.strangers.map((s) => s.probe)]))];
  await mapConcurrent(photos, CONCURRENCY, (photo) => source.vectorOf(photo));
  const perSplit: SplitFigures[] = [];
  for (const split of splits) perSplit.push(splitFigures(await openSetIdentification(source, split, options)));
  return { vector: source.describe(), qualityFilter: options.qualityFilter, perSplit, photos: photos.length, seconds: (Date.now() - started) / 1000 };
}
