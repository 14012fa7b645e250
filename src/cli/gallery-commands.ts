/**
 * `face3d identify`, `verify`, `mesh` and `subjects`: one photo against the gallery, two photos
 * against each other, a photo's 3D face as a file, and the gallery's subjects out as text or JSON
 * lines. Verify and mesh need no gallery; identify and subjects use the local database unless
 * --server names a running server.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Command } from 'commander';
import { config } from '../core/config.js';
import { Face3dError } from '../core/errors.js';
import { assertFiniteCoefficients } from '../gallery/coefficients.js';
import { isMatch, ThresholdPolicy } from '../gallery/decision.js';
import { MAX_TOP_K } from '../gallery/gallery.js';
import { exportMesh, MESH_EXTENSIONS, MESH_FORMATS, type MeshFormat } from '../gallery/mesh-export.js';
import { cosineSimilarity } from '../core/vector.js';
import type { BundleEncoder } from '../inference/bundle-encoder.js';
import { decodeImage } from '../inference/decode.js';
import { inferenceSettings } from '../inference/inference-settings.js';
import type { RgbImage } from '../core/image.js';
import type { EncodedFace } from '../inference/bundle-encoder.js';
import { jsonAware, openGallery, positiveInteger, readInputFile, remoteGallery, similarityThreshold, usageError, withServerOptions, type ServerOptions } from './arguments.js';
import { closingAfter, type FileInput, type IdentifyReport, type ThresholdReport, type VerifyReport } from './gallery-client.js';
import { LocalGallery, openDefaultEncoder } from './local-gallery.js';
import { printJsonLine, round } from './output.js';

interface IdentifyOptions extends ServerOptions {
  readonly topK: number;
  readonly threshold?: number;
  readonly json?: boolean;
}

interface VerifyOptions extends ServerOptions {
  readonly threshold?: number;
  readonly json?: boolean;
}

interface MeshOptions {
  readonly output: string;
  readonly expression?: boolean;
  readonly ascii?: boolean;
  readonly json?: boolean;
}

interface SubjectsOptions extends ServerOptions {
  readonly search?: string;
  readonly json?: boolean;
}

/** The largest face of a photo under the default bundle; NO_FACE when there is none. */
/** The photo's largest face, with the decoded photo (a mesh's texture is unwrapped from it). */
async function encodeLargestFace(encoder: BundleEncoder, file: FileInput): Promise<EncodedFace & { readonly image: RgbImage }> {
  const image = await decodeImage(file.bytes, inferenceSettings(config()).decodeLimits);
  const [face] = await encoder.encode(image);
  if (!face) throw new Face3dError('NO_FACE', `no face found in ${file.name}`);
  assertFiniteCoefficients(face.vector);
  return { ...face, image };
}

async function withDefaultEncoder<T>(work: (encoder: BundleEncoder) => Promise<T>): Promise<T> {
  return closingAfter(await openDefaultEncoder(), work);
}

/** Verify in this process: both photos encoded by the default bundle, compared as the server compares them. */
function verifyLocally(a: FileInput, b: FileInput, requested: number | undefined): Promise<VerifyReport> {
  return withDefaultEncoder(async (encoder) => {
    const faceA = await encodeLargestFace(encoder, a);
    const faceB = await encodeLargestFace(encoder, b);
    // One claimed identity: a gallery of one template, as the server's verify.
    const policy = new ThresholdPolicy(encoder.bundle.manifest.calibration, config().targetFpir);
    const threshold = policy.choose(requested, 1);
    const similarity = cosineSimilarity(faceA.vector.vector, faceB.vector.vector);
    return {
      similarity,
      match: isMatch(similarity, threshold),
      strangerChance: policy.strangerChance(similarity, 1),
      threshold: threshold.value,
      thresholdSource: threshold.source,
      falseAcceptRate: threshold.falseAcceptRate,
      fpir: threshold.fpir,
      templates: threshold.templates,
    };
  });
}

function describeThreshold(report: ThresholdReport): string {
  const far = report.falseAcceptRate === null ? '' : `, false-accept rate ${report.falseAcceptRate.toPrecision(2)}`;
  const fpir = report.fpir === null ? '' : `, names ${percent(report.fpir)} of strangers among ${report.templates} template${report.templates === 1 ? '' : 's'}`;
  return `threshold ${round(report.threshold, 4)} (${report.thresholdSource.toLowerCase().replace('_', ' ')}${far}${fpir})`;
}

function percent(rate: number): string {
  return `${(100 * rate).toPrecision(2)}%`;
}

function describeIdentify(image: string, report: IdentifyReport): string {
  const best = report.matches[0];
  const verdict = report.unknown ? 'unknown (nobody in the gallery is above the threshold)' : `${best.subject.name} (similarity ${round(best.similarity, 4)})`;
  const ranks = report.matches.map((match) => `  ${match.rank}. ${match.subject.name}\t${round(match.similarity, 4)}${match.strangerChance === null ? '' : `\tstranger chance ${percent(match.strangerChance)}`}${match.aboveThreshold ? '\tabove threshold' : ''}\t${match.subject.id}`);
  return [`${image}: ${verdict}`, ...ranks, describeThreshold(report)].join('\n');
}

/** `-o face.glb` picks the format; OBJ's .mtl and .png are written next to it. */
function meshFormatOf(command: Command, output: string): MeshFormat {
  const extension = extname(output).slice(1).toLowerCase();
  const format = MESH_FORMATS.find((candidate) => MESH_EXTENSIONS[candidate] === extension);
  if (!format) usageError(command, `-o must end in ${MESH_FORMATS.map((f) => `.${MESH_EXTENSIONS[f]}`).join(', ')}, got "${output}"`);
  return format;
}

export function registerGalleryCommands(program: Command): void {
  withServerOptions(program.command('identify'))
    .description("who is this? the photo's largest face ranked against the gallery's subjects (their templates)")
    .argument('<image>', 'photo file')
    .option('--top-k <n>', `candidates to list, 1 to ${MAX_TOP_K}`, positiveInteger, 5)
    .option('--threshold <t>', "cosine similarity a match needs (default: the bundle's threshold for FACE3D_TARGET_FPIR at the gallery's size)", similarityThreshold)
    .option('--json', 'one JSON object')
    .addHelpText(
      'after',
      '\nThe gallery is the local database (DATABASE_URL) unless --server is given; it runs no job and no start-up\n' +
        'repair there, so it is safe beside a server running on that database.\n' +
        'Examples:\n  face3d identify probe.jpg --top-k 3\n  face3d identify probe.jpg --server http://localhost:4000 --key $FACE3D_API_KEY --json',
    )
    .action(
      jsonAware(async (image: string, options: IdentifyOptions, command: Command) => {
        if (options.topK > MAX_TOP_K) usageError(command, `--top-k must be at most ${MAX_TOP_K}`);
        const remote = remoteGallery(command, options);
        const file = await readInputFile(image);
        const gallery = remote ?? (await LocalGallery.open('identify'));
        const report = await closingAfter(gallery, () => gallery.identify(file, { topK: options.topK, threshold: options.threshold }));
        if (options.json) printJsonLine({ image, ...report });
        else process.stdout.write(`${describeIdentify(image, report)}\n`);
      }),
    );

  withServerOptions(program.command('verify'))
    .description('are these the same person? the largest face of each photo, compared by their 3DMM identity vectors')
    .argument('<a>', 'first photo')
    .argument('<b>', 'second photo')
    .option('--threshold <t>', "cosine similarity a match needs (default: the bundle's threshold for FACE3D_TARGET_FPIR against one template)", similarityThreshold)
    .option('--json', 'one JSON object')
    .addHelpText('after', '\nRuns the models in this process unless --server is given.\nExamples:\n  face3d verify a.jpg b.jpg\n  face3d verify a.jpg b.jpg --json --threshold 0.7')
    .action(
      jsonAware(async (a: string, b: string, options: VerifyOptions, command: Command) => {
        const remote = remoteGallery(command, options);
        const [fileA, fileB] = await Promise.all([readInputFile(a), readInputFile(b)]);
        const report = remote ? await remote.verify(fileA, fileB, options.threshold) : await verifyLocally(fileA, fileB, options.threshold);
        if (options.json) printJsonLine({ a, b, ...report });
        else process.stdout.write(`${report.match ? 'same person' : 'different people'}: similarity ${round(report.similarity, 4)}, ${describeThreshold(report)}\n`);
      }),
    );

  program
    .command('mesh')
    .description("the 3D face of a photo's largest face (the default bundle's model) as a mesh file")
    .argument('<image>', 'photo file')
    .requiredOption('-o, --output <file>', 'mesh file: .glb (glTF binary), .ply (coloured PLY) or .obj (with .mtl and .png next to it)')
    .option('--expression', "with the face's own expression instead of neutral")
    .option('--ascii', 'PLY as text instead of binary')
    .option('--json', 'one JSON object naming the files written')
    .addHelpText('after', '\nExamples:\n  face3d mesh photo.jpg -o face.glb\n  face3d mesh photo.jpg -o out/face.obj --expression')
    .action(
      jsonAware(async (image: string, options: MeshOptions, command: Command) => {
        const format = meshFormatOf(command, options.output);
        const file = await readInputFile(image);
        const { exported, bundle } = await withDefaultEncoder(async (encoder) => {
          const face = await encodeLargestFace(encoder, file);
          const coefficients = { shape: face.vector.shape, texture: face.vector.texture, ...(options.expression && { expression: face.expression }) };
          const stem = basename(options.output, extname(options.output));
          const photos = [{ image: face.image, landmarks: face.landmarks.points }];
          return { exported: await exportMesh(encoder.bundle, coefficients, format, { stem, ascii: options.ascii, photos }), bundle: encoder.bundleId };
        });
        const dir = dirname(options.output);
        await mkdir(dir, { recursive: true });
        const files = exported.files.map((meshFile) => ({ path: join(dir, meshFile.name), bytes: meshFile.bytes }));
        for (const written of files) await writeFile(written.path, written.bytes);
        const record = { image, format, bundle, vertices: exported.vertices, triangles: exported.triangles, files: files.map((written) => written.path) };
        if (options.json) printJsonLine(record);
        else process.stdout.write(`${files.map((written) => written.path).join(', ')}: ${record.vertices} vertices, ${record.triangles} triangles (${bundle})\n`);
      }),
    );

  const subjects = program.command('subjects').description("the gallery's subjects (local database, or --server)");
  withServerOptions(subjects.command('list'))
    .description('one line per subject: id, name, externalId, photo count')
    .option('--search <text>', 'part of the name, or the exact externalId')
    .option('--json', 'JSON lines, one subject each')
    .addHelpText('after', '\nExamples:\n  face3d subjects list\n  face3d subjects list --search Bush --json\n  face3d subjects list --server http://localhost:4000 --key $FACE3D_API_KEY')
    .action(
      jsonAware(async (options: SubjectsOptions, command: Command) => {
        await closingAfter(await openGallery(command, options, 'read'), async (gallery) => {
          for await (const subject of gallery.subjects(options.search)) {
            if (options.json) printJsonLine(subject);
            else process.stdout.write(`${subject.id}\t${subject.name}\t${subject.externalId ?? '-'}\t${subject.photoCount}\n`);
          }
        });
      }),
    );
  withServerOptions(subjects.command('export'))
    .description("JSON lines, one per subject: id, name, externalId, template (the default bundle's mean α and β, null before any enrolled face) and photos (id, sha256, status, error)")
    .option('--json', 'accepted for symmetry: the export is always JSON lines')
    .addHelpText('after', '\nExamples:\n  face3d subjects export > subjects.jsonl\n  face3d subjects export --server http://localhost:4000 --key $FACE3D_API_KEY | jq .name')
    .action(
      jsonAware(async (options: SubjectsOptions, command: Command) => {
        await closingAfter(await openGallery(command, options, 'read'), async (gallery) => {
          for await (const subject of gallery.exportSubjects()) printJsonLine(subject);
        });
      }),
    );
}
