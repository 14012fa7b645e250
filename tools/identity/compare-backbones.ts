/**
 * Which identity network should a bundle be built on? Every network of the table
 * (src/inference/feature-networks.ts), and their concatenation, measured where a gallery needs it:
 *  - LFW View 1 test pairs: 10-fold accuracy, and TAR at FAR 1% / 0.1% with the thresholds set on
 *    MANY impostor pairs of LFW *train* people (from extraction caches), not on the test pairs'
 *    500 impostors;
 *  - CFP frontal–profile pairs (`--cfp`, folds 01–05): 10-fold accuracy and faces found on profiles.
 * Each photo is detected and landmarked once (the service's stages, the face nearest the centre);
 * each network then reads its own crop of it.
 *   node dist/tools/identity/compare-backbones.js [--lfw ../shared/datasets/lfw] [--cfp ../shared/datasets/cfp]
 *     [--impostors faceres=.cache/extract/train-unseen-faceres,fr-feature=.cache/extract/train] [--out docs/identity-backbones.json]
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseLfwPairs } from '../../src/eval/pairs.js';
import { NO_FACE_SCORE, tenFoldAccuracy } from '../../src/eval/metrics.js';
import { l2Normalise } from '../../src/core/vector.js';
import { FEATURE_NETWORKS, featureNetworkSpec, featureRegion, featureVector, openFeatureNetwork, type FeatureNetwork } from '../../src/inference/feature-networks.js';
import { closeFaceNetworks, openFaceNetworks } from '../../src/inference/pipeline.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import { loadExtraction } from '../extract/cache.js';
import { alignPhotos, photosOf, type AlignedPhoto } from './aligned-photos.js';
import { cfpPairs } from '../eval/cfp-protocol.js';
import { impostorScoresDescending, scorePairs, tarAtImpostorFar } from './verification.js';

const { values } = parseArgs({
  options: {
    lfw: { type: 'string', default: '../shared/datasets/lfw' },
    cfp: { type: 'string', default: '../shared/datasets/cfp' },
    impostors: { type: 'string', default: 'faceres=.cache/extract/train-unseen-faceres,fr-feature=.cache/extract/train' },
    out: { type: 'string', default: 'docs/identity-backbones.json' },
  },
});

function log(message: string): void {
  process.stderr.write(`[${(performance.now() / 1000).toFixed(0)} s] ${message}\n`);
}

type Vectors = Map<string, Float32Array>;

/** Each network's unit-length vector of every photo with a face; `a+b` is the concatenation of a's and b's. */
async function embed(photos: ReadonlyMap<string, AlignedPhoto>, identities: readonly FeatureNetwork[]): Promise<Map<string, Vectors>> {
  const out = new Map(identities.map((identity) => [identity.spec.name, new Map<string, Float32Array>()]));
  for (const [path, photo] of photos) {
    if (!photo.points) continue;
    for (const identity of identities) {
      out.get(identity.spec.name)!.set(path, l2Normalise(await featureVector(identity, photo.image, featureRegion(identity.spec, photo.points))));
    }
  }
  return withConcatenation(out);
}

function concatenate(a: Float32Array, b: Float32Array): Float32Array {
  const joined = new Float32Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return l2Normalise(joined);
}

function withConcatenation(byNetwork: Map<string, Vectors>): Map<string, Vectors> {
  const names = [...byNetwork.keys()];
  if (names.length !== 2) return byNetwork;
  const [a, b] = names.map((name) => byNetwork.get(name)!);
  const joined = new Map<string, Float32Array>();
  for (const [path, va] of a) {
    const vb = b.get(path);
    if (vb) joined.set(path, concatenate(va, vb));
  }
  return new Map([...byNetwork, [names.join('+'), joined]]);
}

/** Impostor scores (pairs of photos of different people) of each network, on the photos every cache holds. */
async function trainImpostors(spec: string): Promise<Map<string, Float32Array>> {
  const byNetwork = new Map<string, Vectors>();
  const people = new Map<string, string>();
  for (const entry of spec.split(',')) {
    const [name, dir] = entry.split('=');
    const extraction = await loadExtraction(dir);
    if (extraction.featureNetwork !== featureNetworkSpec(name).name) throw new Error(`${dir} holds ${extraction.featureNetwork} features, not ${name}`);
    const vectors: Vectors = new Map();
    extraction.faces.forEach((face, row) => {
      vectors.set(face.path, l2Normalise(extraction.features.slice(row * extraction.featureDim, (row + 1) * extraction.featureDim)));
      people.set(face.path, face.person);
    });
    byNetwork.set(name, vectors);
  }
  const all = withConcatenation(byNetwork);
  const common = [...people.keys()].filter((path) => [...byNetwork.values()].every((v) => v.has(path)));
  const scores = new Map<string, Float32Array>();
  const commonPeople = common.map((path) => people.get(path)!);
  for (const [name, vectors] of all) scores.set(name, impostorScoresDescending(common.map((path) => vectors.get(path)!), commonPeople));
  log(`train impostors: ${scores.values().next().value?.length ?? 0} pairs of ${common.length} photos`);
  return scores;
}

interface Row {
  readonly network: string;
  readonly lfwTenFold: number;
  readonly lfwTenFoldSd: number;
  readonly tarAtFar1: number;
  readonly tarAtFar01: number;
  readonly cfpTenFold?: number;
  readonly cfpTenFoldSd?: number;
}

const lfw = values.lfw!;
if (!existsSync(join(lfw, 'pairsDevTest.txt'))) {
  console.log(`skipped: no LFW at ${lfw}`);
  process.exit(0);
}
const impostors = await trainImpostors(values.impostors!);
const devPairs = parseLfwPairs(await readFile(join(lfw, 'pairsDevTest.txt'), 'utf8')).pairs;
const cfp = values.cfp!;
const withCfp = existsSync(join(cfp, 'Protocol'));
const cfpList = withCfp ? await cfpPairs(cfp, 'FP') : [];

const settings = inferenceSettings(config());
const networks = await openFaceNetworks(settings, FEATURE_NETWORKS.faceres);
const identities = [networks.identity, await openFeatureNetwork(FEATURE_NETWORKS['fr-feature'], settings)];
const devPhotos = await alignPhotos(join(lfw, 'dev'), photosOf(devPairs), networks, 'central');
log(`aligned ${devPhotos.size} LFW dev photos`);
const dev = await embed(devPhotos, identities);
let cfpVectors: Map<string, Vectors> | undefined;
let profiles = { photos: 0, withFace: 0 };
if (withCfp) {
  const cfpPhotos = await alignPhotos(cfp, photosOf(cfpList), networks, 'central');
  const profilePaths = [...cfpPhotos.keys()].filter((path) => path.includes('/profile/'));
  profiles = { photos: profilePaths.length, withFace: profilePaths.filter((path) => cfpPhotos.get(path)!.points).length };
  log(`aligned ${cfpPhotos.size} CFP photos; a face in ${profiles.withFace} of ${profiles.photos} profiles`);
  cfpVectors = await embed(cfpPhotos, identities);
}
await Promise.all(identities.map((identity) => identity.network.close()));
await closeFaceNetworks(networks);

const rows: Row[] = [...dev.keys()].map((network) => {
  const scored = scorePairs(devPairs, dev.get(network)!);
  const tenFold = tenFoldAccuracy(scored);
  const cfpScored = cfpVectors ? scorePairs(cfpList, cfpVectors.get(network)!) : undefined;
  const cfpTenFold = cfpScored ? tenFoldAccuracy(cfpScored) : undefined;
  return {
    network,
    lfwTenFold: tenFold.mean,
    lfwTenFoldSd: tenFold.std,
    tarAtFar1: tarAtImpostorFar(scored, impostors.get(network)!, 0.01).tar,
    tarAtFar01: tarAtImpostorFar(scored, impostors.get(network)!, 0.001).tar,
    cfpTenFold: cfpTenFold?.mean,
    cfpTenFoldSd: cfpTenFold?.std,
  };
});
const table = [
  '| network | dim | LFW dev 10-fold | TAR @ FAR 1% | TAR @ FAR 0.1% | CFP FP 10-fold |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.network} | ${dev.get(r.network)!.values().next().value?.length} | ${r.lfwTenFold.toFixed(3)} ± ${r.lfwTenFoldSd.toFixed(3)} | ${r.tarAtFar1.toFixed(3)} | ${r.tarAtFar01.toFixed(3)} | ${r.cfpTenFold === undefined ? '–' : `${r.cfpTenFold.toFixed(3)} ± ${r.cfpTenFoldSd!.toFixed(3)}`} |`),
].join('\n');
console.log(table);
console.log(`CFP profiles with a face: ${profiles.withFace} of ${profiles.photos}; a pair missing a face scores ${NO_FACE_SCORE}`);
await writeFile(values.out!, `${JSON.stringify({
  measured: new Date().toISOString(),
  command: `node dist/tools/identity/compare-backbones.js --lfw ${lfw} --cfp ${cfp} --impostors ${values.impostors}`,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
  thresholds: 'TAR at FAR set on impostor pairs of LFW train people (photos every impostor cache holds)',
  impostorPairs: impostors.values().next().value?.length,
  cfpProfiles: profiles,
  rows,
  table,
}, null, 2)}\n`);
log(`wrote ${values.out}`);
