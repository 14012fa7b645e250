/**
 * The built CLI against a real face3d server started in this process (`--server`): bulk
 * enrollment through the GraphQL API with multipart uploads, resumed; identify, verify and the
 * subject listing and export over HTTP; a key without the right to enroll stops the run at once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/api/http-client.js';
import { FaceEncoder } from '../../src/inference/face-encoder.js';
import type { RunningServer } from '../../src/server.js';
import { ADMIN_KEY, createKeyThroughApi, startTestServer } from '../helpers/api-server.js';
import { assertCliBuilt, jsonLines, makePeopleFolder, runCli, type PeopleFolder } from '../helpers/cli.js';

let root: string;
let photos: string;
let folder: PeopleFolder;
let encoder: FaceEncoder;
let server: RunningServer;
let readKey: string;

function remote(...args: string[]) {
  return runCli([...args, '--server', server.url, '--key', ADMIN_KEY], { FACE3D_API_KEY: '' });
}

function photoOf(person: string, index: number): string {
  return join(photos, person, folder.people.get(person)![index]);
}

beforeAll(async () => {
  assertCliBuilt();
  root = await mkdtemp(join(tmpdir(), 'face3d-cli-server-'));
  photos = join(root, 'people');
  folder = await makePeopleFolder(photos, 2, 2);
  const [personA] = folder.people.keys();
  const first = await readFile(photoOf(personA, 0));
  await writeFile(join(photos, personA, 'corrupt.jpg'), first.subarray(0, Math.floor(first.length * 0.4)));
  encoder = await FaceEncoder.open();
  server = await startTestServer(join(root, 'server'), encoder);
  const admin = new ApiClient(server.url, ADMIN_KEY);
  readKey = await createKeyThroughApi(admin, 'READ', 'cli test');
});

afterAll(async () => {
  await server?.close();
  await encoder?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the CLI against a running server (--server)', () => {
  it('enrolls a folder through the API, then resumes with nothing left to upload', async () => {
    const [personA, personB] = folder.people.keys();
    const first = await remote('enroll', photos, '--json');
    expect(first.code).toBe(1);
    const summary = JSON.parse(first.stdout);
    expect(summary.subjects).toEqual({ seen: 2, created: 2 });
    expect(summary.photos).toEqual({ found: 5, uploaded: 4, skipped: 0, notAttempted: 0, failed: 1, ready: 4, pending: 0 });
    expect(summary.failures).toEqual([{ file: `${personA}/corrupt.jpg`, code: 'CORRUPT_IMAGE', message: expect.any(String) }]);

    const second = JSON.parse((await remote('enroll', photos, '--json')).stdout);
    expect(second.photos).toMatchObject({ uploaded: 0, skipped: 4, failed: 1 });
    expect(second.subjects).toEqual({ seen: 2, created: 0 });

    const subjects = jsonLines((await remote('subjects', 'list', '--json')).stdout);
    expect(subjects.map((subject) => [subject.name, subject.photoCount]).sort()).toEqual([
      [personA, 2],
      [personB, 2],
    ]);
  });

  it('identifies and verifies through the server', async () => {
    const [, personB] = folder.people.keys();
    const identified = await remote('identify', photoOf(personB, 1), '--json', '--top-k', '2');
    expect(identified.code).toBe(0);
    const report = JSON.parse(identified.stdout);
    expect(report).toMatchObject({ unknown: false, thresholdSource: 'TARGET_FPIR', fpir: expect.closeTo(0.01, 6) });
    expect(report.matches[0].strangerChance).toBeLessThan(0.01);
    expect(report.matches[0]).toMatchObject({ rank: 1, aboveThreshold: true, subject: { name: personB, externalId: personB } });

    const same = JSON.parse((await remote('verify', photoOf(personB, 0), photoOf(personB, 0), '--json')).stdout);
    expect(same.match).toBe(true);
    expect(same.similarity).toBeCloseTo(1, 4);
    const text = await remote('verify', photoOf(personB, 0), photoOf(personB, 1));
    expect(text.stdout).toMatch(/^(same person|different people): similarity -?[\d.]+, threshold [\d.]+ \(target fpir, false-accept rate [\d.e-]+, names 1\.0% of strangers among 1 template\)/);
  });

  it('exports every subject with its template and photo ids', async () => {
    const exported = await remote('subjects', 'export');
    expect(exported.code).toBe(0);
    const lines = jsonLines(exported.stdout) as unknown as { name: string; template: { bundle: string; shape: number[] }; photos: { id: string; status: string }[] }[];
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.template.bundle).toBe(encoder.bundleId);
      expect(line.template.shape).toHaveLength(encoder.bundle.manifest.shape.components);
      expect(line.photos.map((photo) => photo.status)).toEqual(['READY', 'READY']);
    }
  });

  it('stops at once with exit status 1 when the key may not enroll', async () => {
    const newcomer = join(root, 'newcomer');
    await mkdir(join(newcomer, 'Someone_New'), { recursive: true });
    await copyFile(photoOf(folder.people.keys().next().value!, 0), join(newcomer, 'Someone_New', 'photo.jpg'));
    const { code, stdout } = await runCli(['enroll', newcomer, '--json', '--server', server.url], { FACE3D_API_KEY: readKey });
    expect(code).toBe(1);
    expect(JSON.parse(stdout).error.code).toBe('FORBIDDEN');
  });
});
