/**
 * int8 against float on LFW dev photos, network by network (tools/quantize/parity.ts): box IoU,
 * landmark distances in photo pixels, identity embeddings' cosine, against the issue's bars.
 *   node dist/tools/quantize/parity-dev.js [--root ../shared/datasets/lfw/dev] [--photos 200]
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { decodeImage } from '../../src/inference/decode.js';
import { closeParityNetworks, int8IdentitySpecs, openParityNetworks, PARITY_BARS, photoParity, summarise, type PhotoParity, type Summary } from './parity.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/datasets/lfw/dev' },
    photos: { type: 'string', default: '200' },
  },
});
if (!existsSync(values.root)) {
  console.log(`parity-dev skipped: no LFW dev photos at ${values.root} (pass --root)`);
  process.exit(0);
}

const paths = (await listPeople(values.root)).flatMap((person) => person.images);
const count = Number(values.photos);
const step = Math.max(1, Math.floor(paths.length / count));
const chosen = paths.filter((_, i) => i % step === 0).slice(0, count);
const specs = await int8IdentitySpecs();
const networks = await openParityNetworks(specs);
const results: PhotoParity[] = [];
for (const path of chosen) {
  const parity = await photoParity(networks, await decodeImage(await readFile(join(values.root, path))));
  if (parity) results.push(parity);
}
await closeParityNetworks(networks);

const format = (s: Summary, digits: number): string => [s.min, s.p05, s.median, s.p95, s.max].map((v) => v.toFixed(digits)).join(' | ');
const share = (ok: (p: PhotoParity) => boolean): string => `${((100 * results.filter(ok).length) / results.length).toFixed(1)}%`;
console.log(`int8 vs float on ${results.length} of ${chosen.length} LFW dev photos (${values.root}; those where the float detector finds a face)\n`);
console.log('| measure | min | 5% | median | 95% | max | meets the bar |');
console.log('|---|---|---|---|---|---|---|');
console.log(`| blazeface: box IoU (bar ≥ ${PARITY_BARS.boxIou}) | ${format(summarise(results.map((r) => r.boxIou)), 3)} | ${share((r) => r.boxIou >= PARITY_BARS.boxIou)} |`);
console.log(`| facemesh: mean landmark distance, px (bar ≤ ${PARITY_BARS.landmarkPx}) | ${format(summarise(results.map((r) => r.landmarkMeanPx)), 2)} | ${share((r) => r.landmarkMeanPx <= PARITY_BARS.landmarkPx)} |`);
console.log(`| facemesh: largest landmark distance, px | ${format(summarise(results.map((r) => r.landmarkMaxPx)), 2)} | ${share((r) => r.landmarkMaxPx <= PARITY_BARS.landmarkPx)} |`);
for (const spec of specs) {
  console.log(`| ${spec.name}: embedding cosine (bar ≥ ${PARITY_BARS.cosine}) | ${format(summarise(results.map((r) => r.cosine[spec.name])), 4)} | ${share((r) => r.cosine[spec.name] >= PARITY_BARS.cosine)} |`);
}
