/**
 * Milliseconds per crop for every network input the pipeline cuts from a photo, by our bilinear
 * sampler (src/inference/crop.ts, values mapped as it writes them) and by sharp (libvips' affine,
 * bilinear, then the same float conversion the network needs), on the same photos in one run:
 * whether native code is faster for crops this small. Not a parity check (sharp's canvas places
 * the crop a fraction of a pixel differently); only the time.
 *   node dist/bench/crops.js [--root ../shared/datasets/lfw/dev] [--photos 20] [--repeats 50]
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { listPeople } from '../src/dataset/folder-dataset.js';
import type { RgbImage } from '../src/core/image.js';
import { sampleRegion, wholeImageRegion, type SquareRegion, type ValueMap } from '../src/inference/crop.js';
import { decodeImage } from '../src/inference/decode.js';
import { DETECTOR_INPUT_SIZE } from '../src/inference/detector.js';
import { LANDMARK_INPUT_SIZE } from '../src/inference/landmarks.js';

interface CropCase {
  readonly label: string;
  readonly size: number;
  readonly region: (image: RgbImage) => SquareRegion;
  readonly values: ValueMap;
}

/** A face-sized rotated square near the centre, as FaceMesh and the identity network read. */
const faceRegion = (side: number) => (image: RgbImage): SquareRegion => ({ centerX: image.width / 2, centerY: image.height / 2, side: side * Math.min(image.width, image.height), angle: 0.1 });

const CASES: readonly CropCase[] = [
  { label: `detector ${DETECTOR_INPUT_SIZE}² (whole photo)`, size: DETECTOR_INPUT_SIZE, region: (image) => wholeImageRegion(image.width, image.height), values: { scale: 1 / 127.5, offset: -1 } },
  { label: `FaceMesh ${LANDMARK_INPUT_SIZE}² (rotated)`, size: LANDMARK_INPUT_SIZE, region: faceRegion(0.6), values: { scale: 1 / 255, offset: 0 } },
  { label: 'identity 112² (rotated)', size: 112, region: faceRegion(0.4), values: { scale: 1 / 128, offset: -127 / 128 } },
];

/** sharp's version of the same crop: the region's similarity as libvips' affine, cut to size, then floats. */
async function sharpCrop(image: RgbImage, region: SquareRegion, size: number, values: ValueMap): Promise<Float32Array> {
  const zoom = size / region.side;
  const cos = Math.cos(region.angle) * zoom;
  const sin = Math.sin(region.angle) * zoom;
  // Output = M · (input − centre) + size / 2: libvips takes the input offset and output offset apart.
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .affine([[cos, sin], [-sin, cos]], { idx: -region.centerX, idy: -region.centerY, odx: size / 2, ody: size / 2, interpolator: 'bilinear', background: '#000000' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const out = new Float32Array(size * size * 3);
  const rows = Math.min(size, info.height);
  const columns = Math.min(size, info.width);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns * 3; x++) out[y * size * 3 + x] = data[y * info.width * 3 + x] * values.scale + values.offset;
  }
  return out;
}

async function msPerCrop(images: readonly RgbImage[], repeats: number, crop: (image: RgbImage) => unknown): Promise<number> {
  for (const image of images) await crop(image);
  const started = performance.now();
  for (let r = 0; r < repeats; r++) for (const image of images) await crop(image);
  return (performance.now() - started) / (repeats * images.length);
}

const { values: options } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/datasets/lfw/dev' },
    photos: { type: 'string', default: '20' },
    repeats: { type: 'string', default: '50' },
  },
});
if (!existsSync(options.root)) {
  console.log(`bench:crops skipped: no photos at ${options.root} (pass --root <folder-per-person photos>)`);
  process.exit(0);
}
const paths = (await listPeople(options.root)).flatMap((person) => person.images).slice(0, Number(options.photos));
const images = await Promise.all(paths.map(async (path) => decodeImage(await readFile(join(options.root, path)))));
const repeats = Number(options.repeats);
const loadBefore = loadavg()[0];
const rows: string[] = [];
for (const c of CASES) {
  const ours = await msPerCrop(images, repeats, (image) => sampleRegion(image, c.region(image), c.size, c.values));
  const native = await msPerCrop(images, repeats, (image) => sharpCrop(image, c.region(image), c.size, c.values));
  rows.push(`| ${c.label} | ${ours.toFixed(3)} | ${native.toFixed(3)} |`);
}
console.log(`${images.length} photos from ${options.root}, ${repeats} repeats; ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after\n`);
console.log('| crop | crop.ts sampler, ms | sharp affine + float conversion, ms |\n|---|---:|---:|');
console.log(rows.join('\n'));
