/**
 * Issue 14 on everyday photos: each CFP person's mesh as a download serves it, built from their
 * FRONTAL photos only (detection, FaceMesh, the regressed template, the shading refinement of the most
 * frontal photos: `personMeshes`, the code path of fidelity3d's "downloaded"), seen from the side and
 * compared with their four full-profile photos' hand-marked points (`profile-depth.ts`). Yale B's
 * depth is not read. The frontal photos' encodings are cached under --cache (.cache/depth/).
 *   npx tsc -p tsconfig.build.json && nice -n 10 node dist/tools/depth/cfp-profile-depth.js \
 *     [--cfp ../shared/datasets/cfp] [--people 250] [--photos 8] [--depth '{"method":"joint"}'] \
 *     [--compare '{"mean":{"method":"mean"},"joint, 4":{"method":"joint","photos":4}}'] [--bootstrap 1000] [--json out.json]
 * --depth: the downloaded mesh's depth (`DownloadDepthOptions`, default the product's); --photos: how
 * many of the most frontal photos a download reads (default the product's); --compare: other depths
 * of the same photos also scored, by name (`DownloadDepthOptions`; "frontal": true takes the photos
 * most frontal first instead of by their lights). The report's jointPeople: how many downloads were
 * a joint fit (all with "joint", those the gate sent there with "gated", none with "mean").
 * A joint or gated depth may name a space for the joint fit's change ("space": "scans" | "scans-own",
 * `scan-truth.ts`'s `identitySpace` on the bundle's mean face, ICT-FaceKit read from --ict).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { config } from '../../src/core/config.js';
import { encodePhotos, personMeshes, type EncodedDepthPhoto } from '../../src/eval/depth-photos.js';
import { meshSideView, profileDepthAgreement, profileMeasures, type ProfilePerson } from '../../src/eval/profile-depth.js';
import { defaultBundleDir, FaceEncoder } from '../../src/inference/face-encoder.js';
import { inferenceSettings } from '../../src/inference/inference-settings.js';
import { reconstructMesh } from '../../src/morphable/reconstruct.js';
import { downloadedShape, jointShadingChange, type DownloadDepthOptions } from '../../src/morphable/shading-refine.js';
import { readCfpViews } from './cfp-fiducials.js';
import { loadScanModel, resolveSpace, scanSpaces, type NamedDepthOptions } from './scan-truth.js';

const { values } = parseArgs({
  options: {
    cfp: { type: 'string', default: '../shared/datasets/cfp' },
    bundle: { type: 'string' },
    people: { type: 'string', default: '250' },
    photos: { type: 'string' },
    depth: { type: 'string' },
    compare: { type: 'string', default: '{}' },
    bootstrap: { type: 'string', default: '1000' },
    json: { type: 'string' },
    cache: { type: 'string', default: join('.cache', 'depth') },
    ict: { type: 'string', default: '../shared/models3d/ict-facekit' },
  },
});
const log = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const root = values.cfp!;
const views = (await readCfpViews(root)).slice(0, Number(values.people));
const encoder = await FaceEncoder.open(inferenceSettings(config()), values.bundle);
const started = Date.now();

/** The frontal photos' encodings, cached per bundle manifest and regressor (the photos and the encoder decide them). */
async function encodedFrontals(): Promise<EncodedDepthPhoto[]> {
  const { manifest } = encoder.bundle;
  const regressor = manifest.regressor ? await readFile(join(values.bundle ?? defaultBundleDir(inferenceSettings(config())), manifest.regressor.file)) : '';
  const key = createHash('sha256').update(JSON.stringify(manifest)).update(regressor).digest('hex').slice(0, 12);
  const cache = join(values.cache!, `cfp-frontal-${key}.json`);
  type Cached = Omit<EncodedDepthPhoto, 'landmarks' | 'mesh' | 'shape'> & { landmarks: number[]; shape: number[] };
  let cached: Cached[] = [];
  try {
    cached = JSON.parse(await readFile(cache, 'utf8')) as Cached[];
  } catch {
    // No cache yet.
  }
  const known = new Set(cached.map((c) => c.path));
  const wanted = views.flatMap((v) => Array.from({ length: v.frontal.length }, (_, k) => ({ person: v.person, path: join('Data', 'Images', v.person, 'frontal', `${String(k + 1).padStart(2, '0')}.jpg`) })));
  const missing = wanted.filter((w) => !known.has(w.path));
  if (missing.length > 0) {
    const { photos, failed } = await encodePhotos(encoder, root, missing, 'detected');
    log(`encoded ${missing.length} frontal photos, ${failed} without a face`);
    cached.push(...photos.map((p) => ({ person: p.person, path: p.path, yaw: p.yaw, landmarks: Array.from(p.landmarks), shape: Array.from(p.shape) })));
    await mkdir(values.cache!, { recursive: true });
    await writeFile(cache, JSON.stringify(cached));
  }
  const paths = new Set(wanted.map((w) => w.path));
  return cached.filter((c) => paths.has(c.path)).map((c) => ({ ...c, landmarks: Float32Array.from(c.landmarks), shape: Float32Array.from(c.shape), mesh: new Float32Array(0) }));
}

const frontals = await encodedFrontals();
const meanMesh = reconstructMesh(encoder.bundle, { shape: new Float32Array(encoder.bundle.shape.basis.rows), texture: [] }).positions;
const spaces = scanSpaces(meanMesh, () => loadScanModel(values.ict!));
const settings = { ...(values.photos && { photos: Number(values.photos) }), ...(values.depth && { depth: await resolveSpace(JSON.parse(values.depth) as NamedDepthOptions, spaces) }) };
type CompareDepth = DownloadDepthOptions & { frontal?: boolean };
const compare = await Promise.all(Object.entries(JSON.parse(values.compare!) as Record<string, NamedDepthOptions & { frontal?: boolean }>).map(async ([name, options]) => [name, await resolveSpace(options, spaces)] as [string, CompareDepth]));
/** `options`' depth of the photos; "frontal" (joint only): the first `photos` of them as given, most frontal first, not by their lights. */
function depthOf(shape: Float32Array, photos: Parameters<typeof downloadedShape>[1], options: CompareDepth): Float32Array {
  if (!(options.frontal && options.method === 'joint')) return downloadedShape(shape, photos, options);
  const change = jointShadingChange(shape, photos.slice(0, options.photos), options);
  return Float32Array.from(shape, (v, c) => v + change[c]);
}
const people: ProfilePerson[] = [];
let jointPeople = 0;
for (const view of views) {
  const own = frontals.filter((p) => p.person === view.person);
  if (own.length === 0) continue;
  const { regressed, downloaded, photos, method } = await personMeshes(encoder.bundle, root, own, settings);
  if (method === 'joint') jointPeople++;
  const measure = (shape: Float32Array) => profileMeasures(meshSideView(shape));
  const others = Object.fromEntries(compare.map(([name, options]) => [name, measure(depthOf(regressed, photos, options))]));
  people.push({ person: view.person, estimates: { downloaded: measure(downloaded), regressed: measure(regressed), meanMesh: measure(meanMesh), ...others }, profiles: view.profile.map(profileMeasures) });
  if (people.length % 25 === 0) log(`${people.length} people`);
}
await encoder.close();
const report = { settings: { ...settings, depth: values.depth && (JSON.parse(values.depth) as NamedDepthOptions) }, compare: JSON.parse(values.compare!) as unknown, ...profileDepthAgreement(people, { bootstrap: Number(values.bootstrap) }), jointPeople, frontalPhotos: frontals.length, seconds: (Date.now() - started) / 1000 };
const text = JSON.stringify(report, null, 1);
if (values.json) await writeFile(values.json, text);
console.log(text);
