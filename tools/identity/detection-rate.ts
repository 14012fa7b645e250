/**
 * How often the service's detector finds the face a dataset is about, at a given detector input
 * size, and how often FaceMesh then needs its second pass. LFW centres each photo on its subject,
 * so the largest detected face should lie at the image centre: reports the share of photos with
 * any face, the share whose largest face's box centre is within `radius` pixels of the image
 * centre, how many faces only the profile bar (score below 0.5) found, and how many
 * faces FaceMesh read twice (its first pass not confident, src/inference/landmarks.ts).
 *   node dist/tools/identity/detection-rate.js [--root ../shared/datasets/lfw/dev] [--radius 40] [--size 160]
 *   node dist/tools/identity/detection-rate.js --root ../shared/datasets/cfp --list ../shared/datasets/cfp/Protocol/Pair_list_P.txt
 * `--list`: a file whose lines end with a photo's path under the root (CFP's Pair_list_*.txt);
 * without it, every photo of a folder-per-person root.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { boxCenter } from '../../src/inference/crop.js';
import { decodeImage } from '../../src/inference/decode.js';
import { detectFaces, DETECTOR_INPUT_SIZE, largestDetection } from '../../src/inference/detector.js';
import { detectLandmarks, LANDMARK_INPUT_SIZE, regionFromDetection } from '../../src/inference/landmarks.js';
import { openNetwork, type ImageNetwork } from '../../src/inference/networks.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';

type Outcome = { readonly found: 'centred' | 'off-centre'; readonly profileBar: boolean; readonly passes: 1 | 2 } | { readonly found: 'none' };

async function detectionOutcome(detector: ImageNetwork, mesh: ImageNetwork, bytes: Uint8Array, radius: number): Promise<Outcome> {
  const image = await decodeImage(bytes);
  const detections = await detectFaces(detector, image);
  const largest = largestDetection(detections);
  if (!largest) return { found: 'none' };
  const centre = boxCenter(largest.box);
  const { passes } = await detectLandmarks(mesh, image, regionFromDetection(largest));
  // Below the default bar of 0.5, only the profile bar (detector.ts) reports a face.
  const profileBar = largest.score < 0.5;
  return { found: Math.hypot(centre.x - image.width / 2, centre.y - image.height / 2) <= radius ? 'centred' : 'off-centre', profileBar, passes };
}

async function photoPaths(root: string, list: string | undefined): Promise<string[]> {
  if (!list) return (await listPeople(root)).flatMap((person) => person.images);
  const lines = (await readFile(list, 'utf8')).split(/\r?\n/).filter((line) => line.trim() !== '');
  return lines.map((line) => line.trim().split(/\s+/).at(-1)!);
}

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/datasets/lfw/dev' },
    list: { type: 'string' },
    radius: { type: 'string', default: '40' },
    size: { type: 'string', default: String(DETECTOR_INPUT_SIZE) },
  },
});
if (!existsSync(values.root) || (values.list && !existsSync(values.list))) {
  console.log(`skipped: no photos at ${values.root}${values.list ? ` or no list ${values.list}` : ''}`);
  process.exit(0);
}
const radius = Number(values.radius);
const size = Number(values.size);
const paths = await photoPaths(values.root, values.list);
const settings = inferenceSettings(config());
const [detector, mesh] = await Promise.all([openNetwork('blazeface', size, settings), openNetwork('facemesh', LANDMARK_INPUT_SIZE, settings)]);
const started = performance.now();
const outcomes = await mapConcurrent(paths, 8, async (path) => detectionOutcome(detector, mesh, await readFile(join(values.root, path)), radius));
const seconds = (performance.now() - started) / 1000;
await Promise.all([detector.close(), mesh.close()]);

const count = (test: (outcome: Outcome) => boolean): number => outcomes.filter(test).length;
const share = (n: number, of = paths.length): string => `${n} (${((100 * n) / of).toFixed(2)} %)`;
const found = paths.length - count((o) => o.found === 'none');
console.log(`| detector input | photos | any face | largest face centred (≤ ${radius} px) | found below 0.5 (the profile bar) | no face | FaceMesh read twice |`);
console.log('|---|---|---|---|---|---|---|');
console.log(
  `| ${size}² | ${paths.length} | ${share(found)} | ${share(count((o) => o.found === 'centred'))} | ${share(count((o) => o.found !== 'none' && o.profileBar))} | ` +
    `${share(paths.length - found)} | ${share(count((o) => o.found !== 'none' && o.passes === 2), found)} of the faces |`,
);
console.log(`\n${values.root}${values.list ? ` (${values.list})` : ''}, ${seconds.toFixed(1)} s`);
const misses = paths.filter((_, i) => outcomes[i].found !== 'centred');
if (misses.length > 0) console.log(`not centred: ${misses.slice(0, 20).join(', ')}${misses.length > 20 ? ', ...' : ''}`);
