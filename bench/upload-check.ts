/**
 * Milliseconds per photo for what enrollment does to an upload before storing it: the header and
 * container-structure check it runs now (readImageHeader) against the full decode it ran before
 * (decodeImage, which the worker still runs once per photo), on LFW photos and on large photos
 * made here (a phone camera's 12 and 24 megapixels), in one run.
 *   node dist/bench/upload-check.js [--root ../shared/datasets/lfw/dev] [--photos 100] [--repeats 5]
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { listPeople } from '../src/dataset/folder-dataset.js';
import { decodeImage, readImageHeader, type DecodeLimits } from '../src/inference/decode.js';

const { values: options } = parseArgs({
  options: { root: { type: 'string', default: '../shared/datasets/lfw/dev' }, photos: { type: 'string', default: '100' }, repeats: { type: 'string', default: '5' } },
});
const LIMITS: DecodeLimits = { maxBytes: 100 * 1024 * 1024, maxPixels: 50_000_000 };

/** A JPEG of deterministic noise: a worst case for the decoder, like a detailed photo. */
async function noisyJpeg(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919 + (i >> 7) * 31) % 251;
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

async function msPerPhoto(photos: readonly Uint8Array[], repeats: number, check: (bytes: Uint8Array) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let r = 0; r < repeats; r++) for (const bytes of photos) await check(bytes);
  return (performance.now() - started) / (photos.length * repeats);
}

const sets: { label: string; photos: Uint8Array[] }[] = [];
if (existsSync(options.root)) {
  const people = (await listPeople(options.root)).slice(0, Number(options.photos));
  sets.push({ label: `${people.length} LFW photos (250×250 JPEG)`, photos: await Promise.all(people.map((person) => readFile(join(options.root, person.images[0])))) });
}
sets.push({ label: '4000×3000 JPEG (12 MP)', photos: [await noisyJpeg(4000, 3000)] });
sets.push({ label: '6000×4000 JPEG (24 MP)', photos: [await noisyJpeg(6000, 4000)] });

process.stdout.write(`Upload check per photo; ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} before the run; Node ${process.version}\n\n`);
process.stdout.write('| photos | full decode (ms/photo) | header and structure check (ms/photo) |\n|---|---|---|\n');
for (const { label, photos } of sets) {
  const repeats = Number(options.repeats);
  const decode = await msPerPhoto(photos, repeats, (bytes) => decodeImage(bytes, LIMITS));
  const header = await msPerPhoto(photos, repeats, (bytes) => readImageHeader(bytes, LIMITS));
  process.stdout.write(`| ${label} | ${decode.toFixed(1)} | ${header.toFixed(2)} |\n`);
}
