/**
 * Issue 14, idea 2c: could shading refinements of everyday photos be labels? Real depth is not
 * known for LFW, but a label must at least be the person's: the same person's refinement pooled
 * from half their photos should agree with the other half's (`splitHalfReliability`, the measure
 * §25 used for CFP's hand marks). Per photo: the service's neutral mesh, its depth change from the
 * photo's shading (`shadingChange`), the change's depth (model z) at the 468 vertices; per person,
 * even- and odd-numbered photos pooled by their mean. For context, the same for the regressed
 * mesh's own depth.
 *   npx tsc -p tsconfig.build.json && nice -n 10 node dist/tools/depth/shading-reliability.js \
 *     [--root ../shared/datasets/lfw/train] [--people 24] [--photos 8]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { config } from '../../src/core/config.js';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { decodeImage } from '../../src/inference/decode.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { neutralShape } from '../../src/morphable/bundle.js';
import { splitHalfReliability, weightedMean } from '../../src/morphable/pooling.js';
import { photoIntensity, shadingChange } from '../../src/morphable/shading-refine.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/datasets/lfw/train' },
    people: { type: 'string', default: '24' },
    photos: { type: 'string', default: '8' },
  },
});
const perPerson = Number(values.photos);
const chosen = (await listPeople(values.root!)).filter((p) => p.images.length >= perPerson).slice(0, Number(values.people));
const depthOf = (shape: ArrayLike<number>) => Float64Array.from({ length: shape.length / 3 }, (_, i) => shape[3 * i + 2]);

const encoder = await FaceEncoder.open(inferenceSettings(config()));
const started = Date.now();
const people: { change: Float64Array[]; mesh: Float64Array[]; changeRms: number[] }[] = [];
try {
  for (const person of chosen) {
    const record = { change: [] as Float64Array[], mesh: [] as Float64Array[], changeRms: [] as number[] };
    for (const path of person.images.slice(0, perPerson)) {
      const image = await decodeImage(await readFile(join(values.root!, path)));
      const faces = await encoder.encode(image);
      // LFW centres the named person: the face nearest the centre is theirs.
      const centre = (f: (typeof faces)[number]) => Math.hypot(f.box.x + f.box.width / 2 - image.width / 2, f.box.y + f.box.height / 2 - image.height / 2);
      const face = faces.sort((a, b) => centre(a) - centre(b))[0];
      if (!face) continue;
      const mesh = neutralShape(encoder.bundle, face.vector.shape);
      const change = depthOf(shadingChange(mesh, { image: photoIntensity(image), landmarks: face.landmarks.points }));
      record.change.push(change);
      record.mesh.push(depthOf(mesh));
      const mean = change.reduce((s, v) => s + v, 0) / change.length;
      record.changeRms.push(Math.sqrt(change.reduce((s, v) => s + (v - mean) ** 2, 0) / change.length));
    }
    people.push(record);
  }
} finally {
  await encoder.close();
}
const photos = people.reduce((s, p) => s + p.change.length, 0);
const reliability = (key: 'change' | 'mesh') => splitHalfReliability(people.map((p) => ({ vectors: p[key] })), weightedMean, 4);
const change = reliability('change');
const mesh = reliability('mesh');
const rms = people.flatMap((p) => p.changeRms).sort((a, b) => a - b);
console.log(JSON.stringify({
  root: values.root,
  people: people.length,
  photos,
  seconds: (Date.now() - started) / 1000,
  shadingChange: { splitHalfR2: change.r2, peopleUsed: change.peopleUsed, medianChangeRmsMm: rms[rms.length >> 1] },
  regressedMeshDepth: { splitHalfR2: mesh.r2, peopleUsed: mesh.peopleUsed },
}, null, 1));
