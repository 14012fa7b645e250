/**
 * The gallery-free commands of the built CLI (verify, mesh: the models run in the CLI process),
 * and misuse of every gallery command: exit status 2 with help, or 1 with a JSON error.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateBytes } from 'gltf-validator';
import sharp from 'sharp';
import { listPeople } from '../../src/dataset/folder-dataset.js';
import { readGlb } from '../helpers/glb-reader.js';
import { readPly } from '../helpers/ply-reader.js';
import { assertCliBuilt, makePeopleFolder, renderedPeopleFolder, runCli, type PeopleFolder } from '../helpers/cli.js';

let root: string;
let folder: PeopleFolder;
let photoA: string;
let photoA2: string;
let photoB: string;

beforeAll(async () => {
  assertCliBuilt();
  root = await mkdtemp(join(tmpdir(), 'face3d-cli-inference-'));
  folder = await makePeopleFolder(join(root, 'people'), 2, 2);
  const [[a, [a1, a2]], [b, [b1]]] = [...folder.people.entries()];
  [photoA, photoA2, photoB] = [join(root, 'people', a, a1), join(root, 'people', a, a2), join(root, 'people', b, b1)];
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('face3d verify (local models)', () => {
  it('matches a photo with itself and prints one JSON object', async () => {
    const { code, stdout } = await runCli(['verify', photoA, photoA, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ a: photoA, b: photoA, match: true, thresholdSource: 'TARGET_FPIR', templates: 1, fpir: expect.closeTo(0.01, 6) });
    expect(report.similarity).toBeCloseTo(1, 4);
  });

  it('scores two photos of one person above two different people', async () => {
    const same = JSON.parse((await runCli(['verify', photoA, photoA2, '--json'])).stdout);
    const different = JSON.parse((await runCli(['verify', photoA, photoB, '--json'])).stdout);
    expect(same.similarity).toBeGreaterThan(different.similarity);
    expect(different.match).toBe(false);
  });

  it('takes a requested threshold', async () => {
    const report = JSON.parse((await runCli(['verify', photoA, photoB, '--json', '--threshold', '-1'])).stdout);
    expect(report).toMatchObject({ threshold: -1, thresholdSource: 'REQUEST', match: true });
  });
});

describe('the rendered faces the CLI tests use without LFW', () => {
  it('are found, and two renders of one face score above two faces', async () => {
    const rendered = await renderedPeopleFolder(join(root, 'rendered'), 2, 2);
    const [[a, [a1, a2]], [b, [b1]]] = [...rendered.people.entries()];
    const path = (person: string, file: string): string => join(root, 'rendered', person, file);
    const same = JSON.parse((await runCli(['verify', path(a, a1), path(a, a2), '--json'])).stdout);
    const different = JSON.parse((await runCli(['verify', path(a, a1), path(b, b1), '--json'])).stdout);
    expect(same.similarity).toBeGreaterThan(different.similarity);
  });
});

describe('face3d mesh', () => {
  it('writes a valid GLB', async () => {
    const output = join(root, 'out', 'face.glb');
    const { code, stdout } = await runCli(['mesh', photoA, '-o', output, '--json']);
    expect(code).toBe(0);
    const record = JSON.parse(stdout);
    expect(record).toMatchObject({ format: 'GLB', files: [output] });
    const glb = await readFile(output);
    const report = await validateBytes(new Uint8Array(glb), { format: 'glb', writeTimestamp: false });
    expect(report.issues.messages.filter((message) => message.severity === 0)).toEqual([]);
    const mesh = await readGlb(glb);
    expect(mesh.positions.length / 3).toBe(record.vertices);
    // Denser than FaceMesh's 468 points, textured at 256² from the photo itself.
    expect(record.vertices).toBeGreaterThan(7000);
    expect(mesh.texture!.width).toBeGreaterThanOrEqual(256);
  });

  it('writes a PLY, binary or ASCII, that reads back with every vertex and triangle', async () => {
    for (const extra of [[], ['--ascii']]) {
      const output = join(root, 'out', `face${extra.length}.ply`);
      const record = JSON.parse((await runCli(['mesh', photoA, '-o', output, '--json', ...extra])).stdout);
      const bytes = await readFile(output);
      expect(bytes.subarray(0, 40).toString('latin1')).toContain(extra.length ? 'format ascii' : 'format binary_little_endian');
      const mesh = readPly(bytes);
      expect(mesh.positions.length / 3).toBe(record.vertices);
      expect(mesh.indices.length / 3).toBe(record.triangles);
      expect(mesh.colors?.length).toBe(mesh.positions.length);
    }
  });

  it('writes an OBJ with its material and texture next to it', async () => {
    const output = join(root, 'out', 'face.obj');
    const record = JSON.parse((await runCli(['mesh', photoA, '-o', output, '--json', '--expression'])).stdout);
    expect(record.files).toEqual([output, join(root, 'out', 'face.mtl'), join(root, 'out', 'face.png')]);
    const obj = await readFile(output, 'utf8');
    expect(obj).toContain('mtllib face.mtl');
    expect(obj.split('\n').filter((line) => line.startsWith('v ')).length).toBe(record.vertices);
    expect(obj.split('\n').filter((line) => line.startsWith('f ')).length).toBe(record.triangles);
    expect(await readFile(join(root, 'out', 'face.mtl'), 'utf8')).toContain('face.png');
    expect((await readFile(join(root, 'out', 'face.png'))).subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});

describe('face3d eval verify --roc', () => {
  it('draws the ROC curve as SVG and as PNG with the operating points marked', async () => {
    // 10-fold accuracy needs ten pairs of each kind: five people of three photos give 15 and 15.
    const people = [...(await renderedPeopleFolder(join(root, 'eval'), 5, 3)).people.entries()].map(([person, files]) => files.map((file) => `${person}/${file}`));
    const same = people.flatMap(([p1, p2, p3]) => [[p1, p2], [p1, p3], [p2, p3]]);
    const different = people.flatMap((photos, i) => photos.map((photo, k) => [photo, people[(i + 1 + k) % people.length][k]]));
    const pairs = join(root, 'pairs.tsv');
    await writeFile(pairs, ['image_a\timage_b\tsame', ...same.map((pair) => `${pair.join('\t')}\t1`), ...different.map((pair) => `${pair.join('\t')}\t0`)].join('\n'));
    for (const file of ['roc.svg', 'roc.png']) {
      const { code, stdout } = await runCli(['eval', 'verify', '--pairs', pairs, '--root', join(root, 'eval'), '--roc', join(root, file), '--json']);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ pairs: 30, failed: 0 });
    }
    const svg = await readFile(join(root, 'roc.svg'), 'utf8');
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain('>FAR 1%</text>');
    expect(svg).toContain('>FAR 0.1%</text>');
    expect(await sharp(join(root, 'roc.png')).metadata()).toMatchObject({ format: 'png', width: 480, height: 480 });
  });

  it('refuses any other --roc file type before evaluating (exit status 2)', async () => {
    const { code, stderr } = await runCli(['eval', 'verify', '--pairs', join(root, 'pairs.tsv'), '--root', root, '--roc', join(root, 'roc.jpg')]);
    expect(code).toBe(2);
    expect(stderr).toContain('--roc must name a .svg or .png file');
  });
});

describe('face3d eval open-set', () => {
  let set: string;

  beforeAll(async () => {
    // Ten rendered people of two photos each; six keep one photo: 4 mated, 3 distractors, 3 strangers.
    set = join(root, 'open-set');
    const people = [...(await renderedPeopleFolder(set, 10, 2)).people.entries()];
    for (const [person, files] of people.slice(4)) await rm(join(set, person, files[1]));
  });

  it('reports TPIR at FPIR 1% and 0.1%, rank-1 and what the default threshold gives, and draws the DET curve', async () => {
    const det = join(root, 'det.svg');
    const { code, stdout, stderr } = await runCli(['eval', 'open-set', '--root', set, '--distractors', '3', '--quality-filter', 'NONE', '--json', '--det', det]);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ qualityFilter: 'NONE', gallerySubjects: 7, matedProbes: 4, nonMatedProbes: 3, distractors: 3, enrollRefused: 0, probesFailed: 0 });
    // Two renders of one face 10° apart find each other among seven.
    expect(report.rank1).toBe(1);
    for (const rate of [report.tpirAtFpir['0.01'], report.tpirAtFpir['0.001'], report.defaultThreshold.fpir, report.defaultThreshold.tpir]) {
      expect(rate).toBeGreaterThanOrEqual(0);
      expect(rate).toBeLessThanOrEqual(1);
    }
    expect(report.fnirAtFpir['0.01']).toBeCloseTo(1 - report.tpirAtFpir['0.01'], 12);
    // With three strangers, FPIR 1% and 0.1% both allow none.
    expect(report.thresholdAtFpir['0.01']).toBe(report.thresholdAtFpir['0.001']);
    expect(report.defaultThreshold).toMatchObject({ source: 'TARGET_FPIR', targetFpir: 0.01, predictedFpir: expect.closeTo(0.01, 6) });
    expect(report.defaultThreshold.strangersNamed).toBe(Math.round(report.defaultThreshold.fpir * 3));
    const svg = await readFile(det, 'utf8');
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('>FPIR 1%</text>');
    expect(svg).toContain('false negative identification rate');
  });

  it('counts the enrollments the quality filter refuses, and prints text without --json', async () => {
    const { code, stdout } = await runCli(['eval', 'open-set', '--root', set, '--distractors', '3', '--quality-filter', 'HIGH']);
    expect(code).toBe(0);
    const refused = Number(/^enrollRefused: (\d+)$/m.exec(stdout)?.[1]);
    const gallery = Number(/^gallerySubjects: (\d+)$/m.exec(stdout)?.[1]);
    expect(refused + gallery).toBe(7);
    expect(stdout).toMatch(/^qualityFilter: HIGH$/m);
  });

  it('repeats on random splits with --splits, and pairs a run with a baseline on the same splits', async () => {
    const args = ['eval', 'open-set', '--root', set, '--distractors', '3', '--quality-filter', 'NONE', '--json', '--splits', '3', '--seed', '5'];
    const first = await runCli(args);
    expect({ code: first.code, stderr: first.code === 0 ? '' : first.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(first.stdout);
    expect(report).toMatchObject({ splits: 3, seed: 5, qualityFilter: 'NONE', splitsDigest: expect.stringMatching(/^[0-9a-f]{16}$/) });
    // Every photo of the ten people is in some split (3 splits of 4 mated people with two photos), each encoded once.
    expect(report.photos).toBe(14);
    expect(report.perSplit).toHaveLength(3);
    const ranks = report.perSplit.map((split: { rank1: number }) => split.rank1);
    expect(report.figures.rank1.mean).toBeCloseTo(ranks.reduce((a: number, b: number) => a + b, 0) / 3, 12);
    expect(report.figures.gallerySubjects).toEqual({ mean: 7, sd: 0, min: 7, max: 7 });
    const baseline = join(root, 'open-set-baseline.json');
    await writeFile(baseline, first.stdout);
    const paired = await runCli([...args, '--baseline', baseline]);
    expect(paired.code).toBe(0);
    expect(JSON.parse(paired.stdout).baseline.differences.tpirAtFpir1).toEqual({ mean: 0, sd: 0, standardError: 0 });
    const otherSeed = await runCli([...args.slice(0, -1), '6', '--baseline', baseline]);
    expect(otherSeed.code).toBe(1);
    expect(JSON.parse(otherSeed.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('other splits') });
    const withDet = await runCli([...args, '--det', join(root, 'splits.svg')]);
    expect(withDet.code).toBe(2);
    expect(withDet.stderr).toContain('--det draws one split');
  });

  it('counts a second face against quality only when the service would choose the face (--face-select largest)', async () => {
    // A copy of the set whose first mated person is enrolled from a photo of their face twice, side by side.
    const twins = join(root, 'open-set-twins');
    await cp(set, twins, { recursive: true });
    const [first] = (await listPeople(twins)).find((p) => p.images.length === 2)!.images;
    const face = await readFile(join(twins, first));
    const { width = 0, height = 0 } = await sharp(face).metadata();
    const side = await sharp({ create: { width: 2 * width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .composite([{ input: face, left: 0, top: 0 }, { input: face, left: width, top: 0 }])
      .jpeg()
      .toBuffer();
    await writeFile(join(twins, first), side);
    const args = ['eval', 'open-set', '--root', twins, '--distractors', '3', '--quality-filter', 'AUTO', '--json'];
    const designated = await runCli(args);
    expect({ code: designated.code, stderr: designated.code === 0 ? '' : designated.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(designated.stdout)).toMatchObject({ enrollRefused: 0, gallerySubjects: 7 });
    const chosen = JSON.parse((await runCli([...args, '--face-select', 'largest'])).stdout);
    expect(chosen).toMatchObject({ enrollRefused: 1, matedNotEnrolled: 1, refusedFor: { SEVERAL_FACES: 1 } });
  });

  it('refuses a DET file of another type (exit status 2) and more distractors than people with one photo (BAD_USER_INPUT)', async () => {
    const badDet = await runCli(['eval', 'open-set', '--root', set, '--det', join(root, 'det.jpg')]);
    expect(badDet.code).toBe(2);
    expect(badDet.stderr).toContain('--det must name a .svg or .png file');
    const tooMany = await runCli(['eval', 'open-set', '--root', set, '--distractors', '6', '--json']);
    expect(tooMany.code).toBe(1);
    expect(JSON.parse(tooMany.stdout).error.code).toBe('BAD_USER_INPUT');
  });
});

describe('misuse of the gallery commands', () => {
  it.each([
    ['a missing argument', ['verify', 'a.jpg']],
    ['an unknown option', ['identify', 'a.jpg', '--frobnicate']],
    ['a top-k of 0', ['identify', 'a.jpg', '--top-k', '0']],
    ['a top-k above 100', ['identify', 'a.jpg', '--top-k', '101']],
    ['a threshold outside [-1, 1]', ['verify', 'a.jpg', 'b.jpg', '--threshold', '2']],
    ['a mesh file of another format', ['mesh', 'a.jpg', '-o', 'face.stl']],
    ['mesh without -o', ['mesh', 'a.jpg']],
    ['--server without a key', ['identify', 'a.jpg', '--server', 'http://127.0.0.1:9']],
    ['--server that is not a URL', ['subjects', 'list', '--server', 'localhost:4000', '--key', 'k']],
    ['an unknown subjects command', ['subjects', 'frobnicate']],
  ])('exits with 2 on %s', async (_what, args) => {
    const { code, stderr } = await runCli(args, { FACE3D_API_KEY: '' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/error|Usage/);
  });

  it('exits with 1 and prints a JSON error under --json when the work fails', async () => {
    const missing = await runCli(['verify', join(root, 'missing.jpg'), photoA, '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error.code).toBe('NOT_FOUND');
    const blank = join(root, 'blank.png');
    await sharp({ create: { width: 120, height: 120, channels: 3, background: '#777' } }).png().toFile(blank);
    const noFace = await runCli(['mesh', blank, '-o', join(root, 'out', 'x.glb'), '--json']);
    expect(noFace.code).toBe(1);
    expect(JSON.parse(noFace.stdout).error.code).toBe('NO_FACE');
  });

  it.each(['enroll', 'identify', 'verify', 'mesh', 'subjects list', 'subjects export'])('documents %s with examples', async (command) => {
    const { code, stdout } = await runCli([...command.split(' '), '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Examples:');
  });
});
