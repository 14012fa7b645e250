/**
 * How often the service's detector finds the face LFW is about: LFW centres each photo on its
 * subject, so the largest detected face should lie at the image centre. Reports the share of
 * photos with any face and the share whose largest face's box centre is within `radius` pixels
 * of the image centre.
 *   node dist/tools/identity/detection-rate.js [--root ../shared/datasets/lfw/dev] [--radius 40]
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
import { openNetwork, type ImageNetwork } from '../../src/inference/networks.js';

type Outcome = 'centred' | 'off-centre' | 'none';

async function detectionOutcome(detector: ImageNetwork, bytes: Uint8Array, radius: number): Promise<Outcome> {
  const image = await decodeImage(bytes);
  const largest = largestDetection(await detectFaces(detector, image));
  if (!largest) return 'none';
  const centre = boxCenter(largest.box);
  return Math.hypot(centre.x - image.width / 2, centre.y - image.height / 2) <= radius ? 'centred' : 'off-centre';
}

const { values } = parseArgs({ options: { root: { type: 'string', default: '../shared/datasets/lfw/dev' }, radius: { type: 'string', default: '40' } } });
if (!existsSync(values.root)) {
  console.log(`skipped: no photos at ${values.root}`);
  process.exit(0);
}
const radius = Number(values.radius);
const paths = (await listPeople(values.root)).flatMap((person) => person.images);
const detector = await openNetwork('blazeface', DETECTOR_INPUT_SIZE);
const started = performance.now();
const outcomes = await mapConcurrent(paths, 8, async (path) => detectionOutcome(detector, await readFile(join(values.root, path)), radius));
const seconds = (performance.now() - started) / 1000;
await detector.close();

const count = (outcome: Outcome): number => outcomes.filter((o) => o === outcome).length;
const share = (n: number): string => `${n} (${((100 * n) / paths.length).toFixed(2)} %)`;
console.log(`| photos | any face | largest face centred (≤ ${radius} px) | largest face off-centre | no face |`);
console.log('|---|---|---|---|---|');
console.log(`| ${paths.length} | ${share(paths.length - count('none'))} | ${share(count('centred'))} | ${share(count('off-centre'))} | ${share(count('none'))} |`);
console.log(`\n${values.root}, ${seconds.toFixed(1)} s`);
const misses = paths.filter((_, i) => outcomes[i] !== 'centred');
if (misses.length > 0) console.log(`not centred: ${misses.slice(0, 20).join(', ')}${misses.length > 20 ? ', ...' : ''}`);
