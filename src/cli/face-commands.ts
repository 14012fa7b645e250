import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { decodeImage } from '../inference/decode.js';
import { detectFaces } from '../inference/detector.js';
import { analyseImage, closeFaceNetworks, openFaceNetworks, type FaceNetworks } from '../inference/pipeline.js';
import type { RgbImage } from '../core/image.js';
import { config, type Config } from '../core/config.js';
import { bundleFeatureNetwork, type FeatureNetworkSpec } from '../inference/feature-networks.js';
import { inferenceSettings } from '../inference/inference-settings.js';
import { bundleDirOf } from '../inference/open-encoder.js';
import { readBundleManifest } from '../morphable/bundle.js';
import { errorRecord, printJsonLine, round } from './output.js';

interface FaceCommandOptions {
  readonly json?: boolean;
}

type PerImage = (networks: FaceNetworks, image: RgbImage) => Promise<Record<string, unknown>>;

/** The default bundle's identity network: `embed` gives the features its regressor reads, not another network's. */
async function defaultIdentityNetwork(settings: Config): Promise<FeatureNetworkSpec> {
  const manifest = await readBundleManifest(bundleDirOf(settings.bundles[0], settings.modelsDir));
  return bundleFeatureNetwork(manifest.preprocessing);
}

/**
 * Runs one stage over every file in turn: a bad file gets an error record and the command goes on,
 * so one corrupt photo in a folder never hides the results for the rest; the exit status is then 1,
 * so a script sees that some file failed.
 */
async function eachImage(paths: readonly string[], options: FaceCommandOptions, perImage: PerImage, describe: (record: Record<string, unknown>) => string): Promise<void> {
  const settings = inferenceSettings(config());
  const networks = await openFaceNetworks(settings, await defaultIdentityNetwork(config()));
  try {
    for (const path of paths) {
      let record: Record<string, unknown>;
      try {
        const image = await decodeImage(await readFile(path), settings.decodeLimits);
        record = { image: path, width: image.width, height: image.height, ...(await perImage(networks, image)) };
      } catch (error) {
        record = { image: path, error: errorRecord(error) };
        process.exitCode = 1;
      }
      if (options.json) printJsonLine(record);
      else process.stdout.write(`${describe(record)}\n`);
    }
  } finally {
    await closeFaceNetworks(networks);
  }
}

const EXIT_STATUS = 'Exit status: 0 when every file was read (with faces or none), 1 when any file failed (its record says why).';

function describeError(record: Record<string, unknown>): string | undefined {
  const error = record.error as { code: string; message: string } | undefined;
  return error && `${record.image}: ${error.code}: ${error.message}`;
}

function roundedBox(box: { x: number; y: number; width: number; height: number }) {
  return { x: round(box.x), y: round(box.y), width: round(box.width), height: round(box.height) };
}

export function registerFaceCommands(program: Command): void {
  program
    .command('detect')
    .description('find every face in each photo: box and score')
    .argument('<images...>', 'photo files (JPEG, PNG, WebP, GIF, TIFF, AVIF)')
    .option('--json', 'one JSON object per line and per image')
    .addHelpText('after', `\n${EXIT_STATUS}\nExamples:\n  face3d detect photo.jpg\n  face3d detect --json photos/*.jpg > faces.jsonl`)
    .action((images: string[], options: FaceCommandOptions) =>
      eachImage(images, options, async (networks, image) => {
        const faces = await detectFaces(networks.detector, image);
        return {
          faces: faces.map((f) => ({
            box: roundedBox(f.box),
            score: round(f.score, 4),
            keypoints: f.keypoints.map((p) => ({ x: round(p.x), y: round(p.y) })),
          })),
        };
      }, (r) => describeError(r) ?? `${r.image}: ${(r.faces as unknown[]).length} face(s) ${JSON.stringify((r.faces as { box: unknown; score: number }[]).map((f) => ({ box: f.box, score: f.score })))}`),
    );

  program
    .command('landmarks')
    .description('468 3D landmarks (MediaPipe FaceMesh order, photo pixels) of the largest face in each photo')
    .argument('<images...>', 'photo files')
    .option('--json', 'one JSON object per line and per image')
    .addHelpText('after', `\n${EXIT_STATUS}\nExample:\n  face3d landmarks --json photo.jpg`)
    .action((images: string[], options: FaceCommandOptions) =>
      eachImage(images, options, async (networks, image) => {
        const [face] = await analyseImage(networks, image);
        if (!face) return { faces: [] };
        const points: number[][] = [];
        for (let i = 0; i < face.landmarks.points.length; i += 3) {
          points.push([round(face.landmarks.points[i]), round(face.landmarks.points[i + 1]), round(face.landmarks.points[i + 2])]);
        }
        return { faces: [{ box: roundedBox(face.box), score: round(face.score, 4), confidence: round(face.landmarks.confidence, 4), points }] };
      }, (r) => describeError(r) ?? `${r.image}: ${(r.faces as unknown[]).length ? `468 landmarks, confidence ${(r.faces as { confidence: number }[])[0].confidence}` : 'no face'}`),
    );

  program
    .command('embed')
    .description("identity features of the largest face in each photo, from the default bundle's identity network (what its regressor reads; each record names the network)")
    .argument('<images...>', 'photo files')
    .option('--json', 'one JSON object per line and per image')
    .addHelpText('after', `\n${EXIT_STATUS}\nExample:\n  face3d embed --json a.jpg b.jpg`)
    .action((images: string[], options: FaceCommandOptions) =>
      eachImage(images, options, async (networks, image) => {
        const [face] = await analyseImage(networks, image);
        const network = networks.identity.spec.name;
        if (!face) return { network, faces: [] };
        return { network, faces: [{ box: roundedBox(face.box), score: round(face.score, 4), features: Array.from(face.features, (v) => round(v, 5)) }] };
      }, (r) => describeError(r) ?? `${r.image}: ${(r.faces as { features: unknown[] }[]).map((f) => `${f.features.length}-d features (${r.network})`)[0] ?? 'no face'}`),
    );
}
