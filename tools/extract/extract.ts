/**
 * npm run train:extract -- --root <folder-per-person dataset> [--out <cache dir>]  [--shard 256] [--face-select central|largest] [--network fr-feature]
 *     [--landmarks-from <cache dir>]
 * Runs decode → detect → landmarks → identity features → UV texture over every photo and caches
 * (the face nearest the centre by default: datasets such as LFW are centred portraits)
 * the results (tools/extract/cache.ts). `--network` names the identity network from the table in
 * src/inference/feature-networks.ts (default: the one new bundles are built on); the bundle and the
 * regressor built from this cache inherit it. `--landmarks-from` takes every face's detection,
 * landmarks and texture from an extraction of the same dataset and runs only the identity network
 * (another backbone without detecting again: what the full run would give, in a fraction of the
 * time). Resumable: finished shards are skipped.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { decodeImage } from '../../src/inference/decode.js';
import { faceTexture } from '../../src/inference/face-texture.js';
import { analyseImage, closeFaceNetworks, openFaceNetworks, type FaceNetworks } from '../../src/inference/pipeline.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import { DEFAULT_FEATURE_NETWORK, featureNetworkSpec, featureRegion, featureVector, openFeatureNetwork, type FeatureNetwork } from '../../src/inference/feature-networks.js';
import { errorRecord } from '../../src/cli/output.js';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { loadExtraction, MASK_BYTES, POINT_VALUES, shardExists, TEXTURE_BYTES, writeShard, type ExtractedPhoto } from './cache.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    out: { type: 'string' },
    shard: { type: 'string', default: '256' },
    concurrency: { type: 'string', default: '4' },
    'face-select': { type: 'string', default: 'central' },
    network: { type: 'string', default: DEFAULT_FEATURE_NETWORK },
    'landmarks-from': { type: 'string' },
  },
});
if (!values.root) {
  console.error('usage: npm run train:extract -- --root <dataset dir> [--out <cache dir>] [--shard 256] [--concurrency 4]');
  process.exit(2);
}
const root = resolve(values.root);
const out = resolve(values.out ?? join('.cache', 'extract', basename(root)));
const shardSize = Number(values.shard);
const concurrency = Number(values.concurrency);
const select = values['face-select'] === 'largest' ? 'largest' : 'central';
const identity = featureNetworkSpec(values.network);

async function extractPhoto(networks: FaceNetworks, path: string, person: string): Promise<ExtractedPhoto> {
  try {
    const image = await decodeImage(await readFile(join(root, path)));
    const [face] = await analyseImage(networks, image, { select });
    if (!face) return { entry: { path, person, status: 'NO_FACE' } };
    const { texture, mask } = faceTexture(image, face.landmarks.points);
    return {
      entry: { path, person, status: 'ok', box: face.box, score: face.score, confidence: face.landmarks.confidence },
      points: face.landmarks.points,
      features: face.features,
      texture,
      mask,
    };
  } catch (error) {
    return { entry: { path, person, status: errorRecord(error).code } };
  }
}

const earlier = values['landmarks-from'] ? await loadExtraction(values['landmarks-from']) : undefined;
const earlierEntries = new Map(earlier?.entries.map((e) => [e.path, e]));
const earlierRows = new Map(earlier?.faces.map((f, row) => [f.path, row]));

/** The photo's face as `earlier` found it, with this network's features; a photo without a face there has none here. */
async function refeaturePhoto(identityNetwork: FeatureNetwork, path: string, person: string): Promise<ExtractedPhoto> {
  const entry = earlierEntries.get(path);
  if (!entry) throw new Error(`${path} is not in ${values['landmarks-from']}: extract this dataset without --landmarks-from`);
  const row = earlierRows.get(path);
  if (row === undefined) return { entry };
  const points = earlier!.points.slice(row * POINT_VALUES, (row + 1) * POINT_VALUES);
  try {
    const image = await decodeImage(await readFile(join(root, path)));
    return {
      entry,
      points,
      features: await featureVector(identityNetwork, image, featureRegion(identityNetwork.spec, points)),
      texture: earlier!.textures.slice(row * TEXTURE_BYTES, (row + 1) * TEXTURE_BYTES),
      mask: earlier!.masks.slice(row * MASK_BYTES, (row + 1) * MASK_BYTES),
    };
  } catch (error) {
    return { entry: { path, person, status: errorRecord(error).code } };
  }
}

const photos = (await listPeople(root)).flatMap((p) => p.images.map((path) => ({ path, person: p.name })));
await mkdir(out, { recursive: true });
const shards = Math.ceil(photos.length / shardSize);
const bar = new cliProgress.SingleBar({ format: 'extract [{bar}] {value}/{total} photos | {rate}/s | ETA {eta_formatted}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 15000 }, cliProgress.Presets.shades_classic);
bar.start(photos.length, 0, { rate: '0.0' });
const started = Date.now();
let done = 0;
const settings = inferenceSettings(config());
const networks = earlier ? undefined : await openFaceNetworks(settings, identity);
const identityOnly = earlier ? await openFeatureNetwork(identity, settings) : undefined;
try {
  for (let s = 0; s < shards; s++) {
    const batch = photos.slice(s * shardSize, (s + 1) * shardSize);
    if (!shardExists(out, s)) {
      const extracted = await mapConcurrent(batch, concurrency, (p) => (identityOnly ? refeaturePhoto(identityOnly, p.path, p.person) : extractPhoto(networks!, p.path, p.person)));
      await writeShard(out, s, extracted, { featureNetwork: identity.name, featureDim: identity.dim });
      done += batch.length;
    }
    bar.increment(batch.length, { rate: (done / Math.max(1e-3, (Date.now() - started) / 1000)).toFixed(1) });
  }
} finally {
  bar.stop();
  if (networks) await closeFaceNetworks(networks);
  await identityOnly?.network.close();
}
console.log(`extracted ${photos.length} photos of ${root} into ${out} (identity features: ${identity.name})`);
