/**
 * `face3d enroll` and the local gallery commands, run as the built CLI against a temporary SQLite
 * gallery: a folder of two people with a corrupt file and a photo without a face, enrolled twice
 * (the second run uploads nothing), limited, listed, exported and searched.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { assertCliBuilt, jsonLines, makePeopleFolder, runCli, type PeopleFolder } from '../helpers/cli.js';

let root: string;
let photos: string;
let folder: PeopleFolder;
let personA: string;
let personB: string;

/** A gallery of its own under `root`, so each test's database starts as the test needs it. */
function galleryEnv(name: string): Record<string, string> {
  return { DATABASE_URL: `file:${join(root, name, 'face3d.db')}`, FACE3D_DATA_DIR: join(root, name, 'photos'), FACE3D_API_KEY: '' };
}

function enroll(env: Record<string, string>, ...args: string[]) {
  return runCli(['enroll', photos, '--json', ...args], env);
}

beforeAll(async () => {
  assertCliBuilt();
  root = await mkdtemp(join(tmpdir(), 'face3d-cli-enroll-'));
  photos = join(root, 'people');
  folder = await makePeopleFolder(photos, 2, 2);
  [personA, personB] = [...folder.people.keys()];
  const first = await readFile(join(photos, personA, folder.people.get(personA)![0]));
  // Sorted after the person's own photos (lower case after upper case), so --limit reaches them last.
  await writeFile(join(photos, personA, 'corrupt.jpg'), first.subarray(0, Math.floor(first.length * 0.4)));
  await writeFile(join(photos, personA, 'no-face.jpg'), await sharp({ create: { width: 160, height: 160, channels: 3, background: '#808080' } }).jpeg().toBuffer());
  await writeFile(join(photos, personA, 'notes.txt'), 'not a photo: ignored');
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('face3d enroll into the local database', () => {
  const env = (): Record<string, string> => galleryEnv('main');

  it('enrolls every photo, waits for them and summarises the failures by code', async () => {
    const { code, stdout, stderr } = await enroll(env());
    expect(code).toBe(1);
    const summary = JSON.parse(stdout);
    expect(summary.subjects).toEqual({ seen: 2, created: 2 });
    expect(summary.photos).toEqual({ found: 6, uploaded: 5, skipped: 0, notAttempted: 0, failed: 2, ready: 4, pending: 0 });
    expect(summary.failuresByCode).toEqual({ CORRUPT_IMAGE: 1, NO_FACE: 1 });
    expect(summary.failures.map((failure: { file: string }) => failure.file)).toEqual([`${personA}/corrupt.jpg`, `${personA}/no-face.jpg`]);
    // stderr is not a terminal here: progress comes as lines, the last of each phase complete.
    expect(stderr).toContain('upload 6/6 (100%)');
    expect(stderr).toContain('enroll 5/5 (100%)');
  });

  it('skips everything already enrolled on a second run and enrolls only what is new', async () => {
    const again = JSON.parse((await enroll(env())).stdout);
    expect(again.photos).toMatchObject({ found: 6, uploaded: 0, skipped: 5, failed: 1 });
    expect(again.skippedByStatus).toEqual({ FAILED: 1, READY: 4 });
    expect(again.subjects).toEqual({ seen: 2, created: 0 });
    expect(again.failuresByCode).toEqual({ CORRUPT_IMAGE: 1 });

    await writeFile(join(photos, personB, 'mirrored.jpg'), await sharp(join(photos, personB, folder.people.get(personB)![0])).flop().jpeg().toBuffer());
    const added = JSON.parse((await enroll(env())).stdout);
    expect(added.photos).toMatchObject({ found: 7, uploaded: 1, skipped: 5, ready: 1 });
    await rm(join(photos, personB, 'mirrored.jpg'));
  });

  it('lists and exports the subjects with their templates and photos', async () => {
    const list = await runCli(['subjects', 'list', '--json'], env());
    expect(list.code).toBe(0);
    const subjects = jsonLines(list.stdout);
    expect(subjects.map((subject) => [subject.name, subject.externalId, subject.photoCount]).sort()).toEqual([
      [personA, personA, 3],
      [personB, personB, 3],
    ]);

    const exported = await runCli(['subjects', 'export'], env());
    expect(exported.code).toBe(0);
    const lines = jsonLines(exported.stdout) as unknown as { name: string; template: { bundle: string; shape: number[]; texture: number[] }; photos: { id: string; sha256: string; status: string }[] }[];
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.template.bundle).toBe('lfw-facemesh-v2');
      expect(line.template.shape.length).toBeGreaterThan(0);
      expect(line.template.shape.every(Number.isFinite)).toBe(true);
      expect(line.photos.every((photo) => /^[0-9a-f]{64}$/.test(photo.sha256))).toBe(true);
    }
    const a = lines.find((line) => line.name === personA)!;
    expect(a.photos.map((photo) => photo.status).sort()).toEqual(['FAILED', 'READY', 'READY']);
  });

  it('identifies an enrolled person from the local gallery', async () => {
    const probe = join(photos, personB, folder.people.get(personB)![1]);
    const { code, stdout } = await runCli(['identify', probe, '--top-k', '2', '--json'], env());
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.unknown).toBe(false);
    expect(report.matches).toHaveLength(2);
    expect(report.matches[0]).toMatchObject({ rank: 1, aboveThreshold: true, subject: { name: personB } });
    expect(report.matches[0].similarity).toBeGreaterThan(report.matches[1].similarity);
  });

  it("identifies without touching a running server's work: a job another process holds stays RUNNING", async () => {
    const held = galleryEnv('held');
    expect((await enroll(held, '--limit', '1', '--concurrency', '1')).code).toBe(0);
    const file = held.DATABASE_URL.slice('file:'.length);
    // What a server's worker holds mid-inference, as far as the database shows.
    const hold = new Database(file);
    hold.prepare("UPDATE Job SET status = 'RUNNING', leaseUntil = ? WHERE id = (SELECT id FROM Job LIMIT 1)").run(Date.now() + 60_000);
    hold.prepare("UPDATE Photo SET status = 'PROCESSING' WHERE id = (SELECT photoId FROM Job WHERE status = 'RUNNING')").run();
    hold.close();
    const states = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT Job.status AS job, Photo.status AS photo FROM Job JOIN Photo ON Photo.id = Job.photoId').all();
      } finally {
        db.close();
      }
    };
    expect(states()).toEqual([{ job: 'RUNNING', photo: 'PROCESSING' }]);

    const probe = join(photos, personA, folder.people.get(personA)![1]);
    expect((await runCli(['identify', probe, '--json'], held)).code).toBe(0);
    expect(states()).toEqual([{ job: 'RUNNING', photo: 'PROCESSING' }]);
  });

  it('uploads at most --limit new photos and creates no subject it did not reach', async () => {
    const limited = galleryEnv('limited');
    const { stdout } = await enroll(limited, '--limit', '2', '--concurrency', '1', '--no-wait');
    const summary = JSON.parse(stdout);
    expect(summary.photos).toMatchObject({ found: 6, uploaded: 2, notAttempted: 4, failed: 0 });
    expect(summary.photos.ready + summary.photos.pending).toBe(2);
    expect(jsonLines((await runCli(['subjects', 'list', '--json'], limited)).stdout).map((subject) => subject.name)).toEqual([personA]);

    const rest = JSON.parse((await enroll(limited)).stdout);
    expect(rest.photos).toMatchObject({ uploaded: 3, skipped: 2, notAttempted: 0 });
  });

  it('exits with 2 on misuse and explains itself', async () => {
    expect((await runCli(['enroll'], env())).code).toBe(2);
    expect((await runCli(['enroll', photos, '--concurrency', '0'], env())).code).toBe(2);
    expect((await runCli(['enroll', photos, '--limit', 'many'], env())).code).toBe(2);
    const keyless = await runCli(['enroll', photos, '--server', 'http://127.0.0.1:9'], env());
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toContain('--key');
    const help = await runCli(['enroll', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
  });

  it('fails with 1 and a JSON error when the folder is missing', async () => {
    const { code, stdout } = await runCli(['enroll', join(root, 'nowhere'), '--json'], env());
    expect(code).toBe(1);
    expect(JSON.parse(stdout).error.code).toBe('NOT_FOUND');
  });
});
