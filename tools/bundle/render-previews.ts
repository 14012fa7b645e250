/**
 * Renders our own meshes (never the photos) for docs/: the bundle's mean face, and the regressed
 * faces of a few photos, textured and shaded, side by side in one PNG.
 *   node dist/tools/bundle/render-previews.js --root ../shared/datasets/lfw/dev --out docs/previews.png <photo paths...>
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { decodeImage } from '../../src/inference/decode.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { config } from '../../src/core/config.js';
import { reconstructMesh, type Coefficients } from '../../src/morphable/reconstruct.js';
import { renderMesh } from '../../src/mesh/render.js';
import { encodePng } from '../../src/mesh/png.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { root: { type: 'string', default: '.' }, out: { type: 'string', default: 'docs/previews.png' }, size: { type: 'string', default: '200' } },
});
const size = Number(values.size);
const encoder = await FaceEncoder.open(inferenceSettings(config()));
const faces: Coefficients[] = [{ shape: [], texture: [] }];
for (const path of positionals) {
  const [face] = await encoder.encode(await decodeImage(await readFile(join(values.root!, path))), { select: 'central' });
  if (face) faces.push({ shape: face.vector.shape, texture: face.vector.texture });
}
await encoder.close();
const tiles: { input: Buffer; left: number; top: number }[] = [];
for (const [column, coefficients] of faces.entries()) {
  const mesh = reconstructMesh(encoder.bundle, coefficients);
  for (const [row, view] of [{ mode: 'textured' as const, yawDeg: 0 }, { mode: 'shaded' as const, yawDeg: 35 }].entries()) {
    tiles.push({ input: await encodePng(renderMesh(mesh, { width: size, height: size, ...view })), left: column * size, top: row * size });
  }
}
await sharp({ create: { width: faces.length * size, height: 2 * size, channels: 3, background: '#ffffff' } }).composite(tiles).png().toFile(values.out!);
console.log(`wrote ${values.out}: the mean face and ${faces.length - 1} regressed faces`);
