import { readFile, writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import sharp from 'sharp';
import { Face3dError } from '../core/errors.js';
import { listPeople, type ImagePair } from '../dataset/folder-dataset.js';
import { EmbeddingSource, type ControlKind, type FaceBoxMode, type FaceSelection, type VectorKind } from '../eval/embedding-source.js';
import { mapConcurrent } from '../core/concurrency.js';
import { parseIdentifyList, parseLfwPairs, parsePairsTsv } from '../eval/pairs.js';
import { fidelity, identifyProbes, leaveOneOutReferences, referenceReliability, stability, verifyPairs, type FidelityCase, type PhotoFits } from '../eval/protocols.js';
import { DET_AXES, ratePlotSvg, rocSvg } from '../eval/roc-plot.js';
import { repeatedSplits, splitOpenSet } from '../eval/open-set.js';
import { openSetIdentification, repeatedOpenSet } from '../eval/protocols.js';
import { pairedDifferences, SPLIT_FIGURES, splitsDigest, summariseSplits, type SplitFigures } from '../eval/split-statistics.js';
import { config } from '../core/config.js';
import { QUALITY_FILTERS, type QualityFilter } from '../store/enums.js';
import { FaceEncoder } from '../inference/face-encoder.js';
import { inferenceSettings } from '../inference/inference-settings.js';
import { fittedVector } from '../eval/fitted-vector.js';
import { fitConfidence } from '../morphable/fit.js';
import { lipGap } from '../morphable/mouth-closure.js';
import { reconstructMesh } from '../morphable/reconstruct.js';
import { readDepthDataset, REFERENCE_LIGHTS, type DepthMap } from '../dataset/depth-dataset.js';
import { depthFidelity } from '../eval/depth-fidelity.js';
import { downloadedDepthPhotos, encodeDepthPhotos } from '../eval/depth-photos.js';
import { jsonAware, usageError } from './arguments.js';
import { printJsonLine, round } from './output.js';

interface SourceOptions {
  readonly root: string;
  readonly vector: VectorKind;
  readonly faceBox: FaceBoxMode;
  readonly faceSelect: FaceSelection;
  readonly control?: ControlKind;
  readonly bundle?: string;
  readonly json?: boolean;
}

function sourceOptions(command: Command): Command {
  return command
    .requiredOption('--root <dir>', 'folder the image paths are relative to')
    .addOption(new Option('--vector <kind>', 'what to compare').choices(['regressed', 'fitted', 'features']).default('regressed'))
    .addOption(new Option('--face-box <mode>', 'detect the face, or take the whole image as the face box').choices(['detect', 'full']).default('detect'))
    .addOption(new Option('--face-select <which>', 'with several faces, the one nearest the centre (centred portraits such as LFW) or the largest').choices(['central', 'largest']).default('central'))
    .addOption(new Option('--control <kind>', 'a control vector of the regressor\'s size: a random projection of the identity features, or the head trained on shuffled labels').choices(['random-projection', 'shuffled-labels']))
    .option('--bundle <dir>', 'morphable model bundle (default: models/lfw-facemesh-v2)')
    .option('--json', 'machine-readable output');
}

function openSource(options: SourceOptions): Promise<EmbeddingSource> {
  return EmbeddingSource.open({ root: options.root, vector: options.vector, faceBox: options.faceBox, select: options.faceSelect, control: options.control, bundleDir: options.bundle, inference: inferenceSettings(config()) });
}

/** LFW pairs files start with a count line; our TSV starts with its header. */
export function parsePairsFile(text: string, source: string): ImagePair[] {
  return text.startsWith('image_a\t') ? parsePairsTsv(text, source) : parseLfwPairs(text, source).pairs;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Face3dError('NOT_FOUND', `cannot read ${path}: ${(error as Error).message}`);
  }
}

interface OpenSetCommandOptions {
  readonly distractors?: string;
  readonly qualityFilter: QualityFilter;
  readonly det?: string;
  readonly splits: string;
  readonly seed: string;
  readonly baseline?: string;
}

/** The seed of today's single split, kept so that its figures stay comparable with earlier runs. */
const SINGLE_SPLIT_SEED = 13;

/** The parts of an earlier `eval open-set --splits k --json` output that a paired difference needs. */
interface Baseline {
  readonly splitsDigest: string;
  readonly qualityFilter: string;
  readonly perSplit: SplitFigures[];
}

function parseBaseline(text: string, file: string): Baseline {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Face3dError('BAD_USER_INPUT', `${file} is not JSON: give the --json output of an earlier eval open-set --splits run`);
  }
  const candidate = parsed as Partial<Baseline> | null;
  const complete = typeof candidate?.splitsDigest === 'string' && Array.isArray(candidate.perSplit) && candidate.perSplit.every((split) => SPLIT_FIGURES.every((figure) => typeof split?.[figure] === 'number'));
  if (!complete) throw new Face3dError('BAD_USER_INPUT', `${file} has no per-split figures: give the --json output of an earlier eval open-set --splits run`);
  return candidate as Baseline;
}

/** The split functions' RangeErrors are the user's input (too many distractors, nobody to probe). */
function badInputOnRange<T>(compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    if (error instanceof RangeError) throw new Face3dError('BAD_USER_INPUT', error.message);
    throw error;
  }
}

function printReport(report: Record<string, unknown>, json: boolean | undefined): void {
  if (json) printJsonLine(report);
  else for (const [key, value] of Object.entries(report)) console.log(`${key}: ${typeof value === 'object' ? JSON.stringify(value) : value}`);
}

export function registerEvalCommands(program: Command): void {
  const evaluate = program.command('eval').description('measure verification, identification and 3D fidelity on a labelled dataset');

  sourceOptions(evaluate.command('verify').description('pair verification accuracy (LFW 10-fold threshold choice), AUC, EER, TAR at FAR'))
    .requiredOption('--pairs <file>', "LFW pairs file, or TSV with header image_a<TAB>image_b<TAB>same")
    .option('--roc <file>', 'write the ROC curve (.svg or .png) with the operating points marked')
    .addHelpText('after', '\nExamples:\n  face3d eval verify --pairs ../shared/datasets/lfw/pairsDevTest.txt --root ../shared/datasets/lfw/dev --vector regressed --json\n  face3d eval verify --pairs pairs.tsv --root photos --roc roc.png')
    .action(async (options: SourceOptions & { pairs: string; roc?: string }, command: Command) => {
      // Checked before the evaluation, which takes minutes, rather than after it.
      if (options.roc && !/\.(svg|png)$/i.test(options.roc)) usageError(command, `--roc must name a .svg or .png file, got "${options.roc}"`);
      const pairs = parsePairsFile(await readText(options.pairs), options.pairs);
      const source = await openSource(options);
      try {
        const { roc, ...report } = await verifyPairs(source, pairs);
        if (options.roc) {
          const svg = rocSvg(roc, [
            { label: 'FAR 1%', falseAcceptRate: 0.01, trueAcceptRate: report.tarAtFar['0.01'] },
            { label: 'FAR 0.1%', falseAcceptRate: 0.001, trueAcceptRate: report.tarAtFar['0.001'] },
          ], `${report.vector}: accuracy ${round(report.accuracy * 100, 2)}%, AUC ${round(report.auc, 4)}`);
          if (options.roc.toLowerCase().endsWith('.png')) await sharp(Buffer.from(svg)).png().toFile(options.roc);
          else await writeFile(options.roc, svg);
        }
        printReport({ ...report, bundle: source.encoder.bundleId }, options.json);
      } finally {
        await source.close();
      }
    });

  sourceOptions(evaluate.command('identify').description('closed-set identification: rank-1 and rank-5 of probes against gallery templates'))
    .requiredOption('--list <file>', 'TSV with header image<TAB>role<TAB>subject, role gallery|probe')
    .addHelpText('after', '\nExample:\n  face3d eval identify --list identify.tsv --root ../shared/datasets/lfw/dev --json')
    .action(async (options: SourceOptions & { list: string }) => {
      const entries = parseIdentifyList(await readText(options.list), options.list);
      const source = await openSource(options);
      try {
        printReport({ ...(await identifyProbes(source, entries)), bundle: source.encoder.bundleId }, options.json);
      } finally {
        await source.close();
      }
    });

  sourceOptions(evaluate.command('open-set').description("open-set identification on a folder-per-person set, decided as the service decides: TPIR at FPIR 1% and 0.1%, rank-1, and what the default threshold gives"))
    .option('--distractors <n>', 'people with one photo enrolled as distractors (default: half of them; the others are strangers)')
    .addOption(new Option('--quality-filter <filter>', "enrollment's quality bar, as enrollPhotos(qualityFilter)").choices([...QUALITY_FILTERS]).default('AUTO'))
    .option('--det <file>', 'write the DET curve (.svg or .png) with the operating points marked (one split only)')
    .option('--splits <k>', 'repeat on k random splits of the same sizes and report each figure\'s mean and sd over them', '1')
    .option('--seed <s>', 'seed of the split(s)', String(SINGLE_SPLIT_SEED))
    .option('--baseline <file>', "with --splits k: the --json output of an earlier run on the same splits (e.g. FACE3D_PRECISION=fp32); adds each figure's paired difference, this run − the baseline")
    .addHelpText(
      'after',
      '\nPeople with two photos or more are enrolled with their first and probed with their second (mated);\n' +
        'people with one photo are distractors (enrolled, never probed) or strangers (probed, never enrolled).\n' +
        'With --splits k, each split draws afresh which people with one photo are strangers and which two\n' +
        'photos of each mated person are enrolled and probed; every photo is encoded once.\n' +
        'With --face-select central (the default) the evaluation designates the face, as a faceBox does, so other\n' +
        'faces in the photo do not count against its quality; with --face-select largest they do, as in the service.\n' +
        'The default threshold is the service\'s for FACE3D_TARGET_FPIR at this gallery\'s size.\n' +
        'Examples:\n  face3d eval open-set --root ../shared/datasets/lfw/dev --json --det det.svg\n' +
        '  FACE3D_PRECISION=fp32 face3d eval open-set --root ../shared/datasets/lfw/dev --splits 20 --json > fp32.json\n' +
        '  FACE3D_PRECISION=int8 face3d eval open-set --root ../shared/datasets/lfw/dev --splits 20 --json --baseline fp32.json',
    )
    .action(jsonAware(async (options: SourceOptions & OpenSetCommandOptions, command: Command) => {
      if (options.det && !/\.(svg|png)$/i.test(options.det)) usageError(command, `--det must name a .svg or .png file, got "${options.det}"`);
      if (options.distractors !== undefined && !/^\d+$/.test(options.distractors)) usageError(command, `--distractors must be a whole number, got "${options.distractors}"`);
      if (!/^[1-9]\d*$/.test(options.splits)) usageError(command, `--splits must be a whole number from 1, got "${options.splits}"`);
      if (!/^\d+$/.test(options.seed)) usageError(command, `--seed must be a whole number, got "${options.seed}"`);
      const splitCount = Number(options.splits);
      if (splitCount > 1 && options.det) usageError(command, '--det draws one split\'s curve: use it without --splits');
      if (splitCount === 1 && options.baseline) usageError(command, '--baseline pairs repeated splits: use it with --splits 2 or more');
      const baseline = options.baseline ? parseBaseline(await readText(options.baseline), options.baseline) : undefined;
      const people = await listPeople(options.root);
      const distractors = options.distractors === undefined ? undefined : Number(options.distractors);
      const splits = badInputOnRange(() => (splitCount === 1 ? [splitOpenSet(people, distractors, Number(options.seed))] : repeatedSplits(people, splitCount, Number(options.seed), distractors)));
      const source = await openSource(options);
      const openSetOptions = { qualityFilter: options.qualityFilter, targetFpir: config().targetFpir };
      try {
        if (splitCount > 1) {
          const digest = splitsDigest(splits);
          if (baseline && baseline.splitsDigest !== digest) throw new Face3dError('BAD_USER_INPUT', `${options.baseline} was run on other splits (digest ${baseline.splitsDigest}, this run ${digest}): give the same --root, --splits, --seed and --distractors`);
          const { perSplit, ...run } = await repeatedOpenSet(source, splits, openSetOptions);
          printReport({
            ...run,
            splits: splitCount,
            seed: Number(options.seed),
            splitsDigest: digest,
            figures: summariseSplits(perSplit),
            ...(baseline ? { baseline: { file: options.baseline, qualityFilter: baseline.qualityFilter, differences: pairedDifferences(perSplit, baseline.perSplit) } } : {}),
            perSplit,
            bundle: source.encoder.bundleId,
          }, options.json);
          return;
        }
        const { det, ...report } = await openSetIdentification(source, splits[0], openSetOptions);
        if (options.det) {
          // The default first: its label goes nearest its point, the others stack below theirs.
          const marked = [
            { label: `default threshold ${round(report.defaultThreshold.value, 3)}`, x: report.defaultThreshold.fpir, y: report.defaultThreshold.fnir },
            { label: 'FPIR 1%', x: 0.01, y: report.fnirAtFpir['0.01'] },
            { label: 'FPIR 0.1%', x: 0.001, y: report.fnirAtFpir['0.001'] },
          ];
          const title = `${report.vector}: ${report.gallerySubjects} subjects, rank-1 ${round(report.rank1 * 100, 1)}%`;
          const svg = ratePlotSvg(det.map((p) => ({ x: p.fpir, y: p.fnir })), marked, title, DET_AXES);
          if (options.det.toLowerCase().endsWith('.png')) await sharp(Buffer.from(svg)).png().toFile(options.det);
          else await writeFile(options.det, svg);
        }
        printReport({ ...report, bundle: source.encoder.bundleId }, options.json);
      } finally {
        await source.close();
      }
    }));

  evaluate
    .command('fidelity3d')
    .description("how faithful the neutral mesh's depth is to real 3D: depth error, person-specific deviations and 3D recognition against two baselines")
    .requiredOption('--root <dir>', 'real-depth dataset in the Yale B 3D layout (people.json, <person>/depth.f32, <person>/photos)')
    .option('--photos <names>', "comma-separated photo names after '<person>_', or 'all'", REFERENCE_LIGHTS.join(','))
    .option('--bootstrap <n>', 'people-bootstrap resamples for the 95% intervals', '1000')
    .option('--bundle <dir>', 'morphable model bundle (default: models/lfw-facemesh-v2)')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nEach photo\'s neutral mesh (its regressed shape, no expression) is posed on the photo by the scaled\n' +
        'orthographic camera that best fits its 468 landmarks, its depth compared at the landmarks where the\n' +
        'truth is valid, planes removed. Baselines: the mean of the other people\'s meshes, the mean of the\n' +
        'other people\'s real depth. "downloaded": the same figures for the mesh a download serves, each\n' +
        'person\'s template refined by the shading of their (up to 8 most frontal) photos.\n' +
        'Intervals: 2.5% and 97.5% of a bootstrap over people.\n' +
        'Example:\n  face3d eval fidelity3d --root ../shared/datasets/yaleb3d/dev --json',
    )
    .action(jsonAware(async (options: { root: string; photos: string; bootstrap: string; bundle?: string; json?: boolean }, command: Command) => {
      if (!/^\d+$/.test(options.bootstrap)) usageError(command, `--bootstrap must be a whole number, got "${options.bootstrap}"`);
      const started = Date.now();
      const people = await readDepthDataset(options.root, options.photos === 'all' ? undefined : options.photos.split(','));
      const encoder = await FaceEncoder.open(inferenceSettings(config()), options.bundle);
      try {
        const { photos: found, failed } = await encodeDepthPhotos(encoder, options.root, people);
        // The neutral meshes as regressed, and as downloaded (mouth closed), in millimetres.
        const lipGapMm = {
          regressed: Math.max(...found.map((p) => lipGap(p.mesh))),
          downloaded: Math.max(...found.map((p) => lipGap(reconstructMesh(encoder.bundle, { shape: p.shape, texture: [] }).positions))),
        };
        const truths = new Map<string, DepthMap>(people.map((p) => [p.name, p.depth]));
        const measure = (photos: Parameters<typeof depthFidelity>[0]) => {
          try {
            return depthFidelity(photos, truths, { bootstrap: Number(options.bootstrap) });
          } catch (error) {
            if (error instanceof RangeError) throw new Face3dError('BAD_USER_INPUT', error.message);
            throw error;
          }
        };
        const report = measure(found);
        // What a user downloads: each person's template refined by the shading of their photos, scored against the same baselines' counterparts.
        const served = measure(await downloadedDepthPhotos(encoder.bundle, options.root, found));
        const downloaded = { mesh: served.mesh, meanOfOthersMeshes: served.meanOfOthersMeshes };
        printReport({ ...report, downloaded, lipGapMm, failed, bundle: encoder.bundleId, seconds: (Date.now() - started) / 1000 }, options.json);
      } finally {
        await encoder.close();
      }
    }));

  evaluate
    .command('fidelity')
    .description("how close one photo's vector is to the person's reference, pooled from their other photos")
    .requiredOption('--root <dir>', 'folder-per-person dataset (held-out people)')
    .option('--min-photos <n>', 'people with at least this many photos', '4')
    .option('--bundle <dir>', 'morphable model bundle')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  face3d eval fidelity --root ../shared/datasets/lfw/dev --json')
    .action(async (options: { root: string; minPhotos: string; bundle?: string; json?: boolean }) => {
      const started = Date.now();
      const minPhotos = Number(options.minPhotos);
      if (!(minPhotos >= 3)) throw new Face3dError('BAD_USER_INPUT', '--min-photos must be at least 3 (a reference needs two other photos)');
      const people = (await listPeople(options.root)).filter((p) => p.images.length >= minPhotos);
      const source = await EmbeddingSource.open({ root: options.root, vector: 'regressed', faceBox: 'detect', bundleDir: options.bundle, inference: inferenceSettings(config()) });
      try {
        const photos = people.flatMap((p) => p.images.map((image) => ({ person: p.name, image })));
        const results = await mapConcurrent(photos, 4, async ({ person, image }) => {
          const v = await source.vectorOf(image);
          if ('error' in v) return undefined;
          const fitted = fittedVector(source.encoder.bundle, v.image, v.face);
          const confidence = fitConfidence(v.face.landmarks.confidence, v.face.pose.yaw);
          return { person, regressed: v.face.vector, fittedVector: fitted.vector, fitted: { person, shape: fitted.shape, texture: fitted.texture, confidence } };
        });
        const ok = results.filter((r): r is NonNullable<typeof r> => r !== undefined);
        const byPerson = new Map<string, number>();
        for (const r of ok) byPerson.set(r.person, (byPerson.get(r.person) ?? 0) + 1);
        const usable = ok.filter((r) => byPerson.get(r.person)! >= 3);
        const fits: PhotoFits[] = usable.map((r) => r.fitted);
        const references = leaveOneOutReferences(fits);
        const compare = (estimate: (i: number) => FidelityCase['estimate']) => fidelity(usable.map((_, i) => ({ estimate: estimate(i), reference: references[i] })));
        const zeros = { shape: new Float64Array(references[0].shape.length), texture: new Float64Array(references[0].texture.length) };
        const labels = usable.map((r) => r.person);
        printReport({
          people: new Set(labels).size,
          photos: usable.length,
          failed: photos.length - ok.length,
          regressed: compare((i) => usable[i].regressed),
          fitted: compare((i) => usable[i].fitted),
          mean: compare(() => zeros),
          referenceReliability: referenceReliability(fits, Math.max(4, minPhotos)),
          stability: {
            regressed: stability(usable.map((r) => r.regressed.vector), labels),
            fitted: stability(usable.map((r) => r.fittedVector), labels),
          },
          bundle: source.encoder.bundleId,
          seconds: (Date.now() - started) / 1000,
        }, options.json);
      } finally {
        await source.close();
      }
    });
}
