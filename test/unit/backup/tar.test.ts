import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar, TarWriter } from '../../../src/backup/tar.js';
import { sha256Hex } from '../../../src/store/blob-store.js';

/** Names and content hashes (comparing megabytes byte by byte in expect is slow). */
async function entriesOf(path: string): Promise<[string, string][]> {
  const entries: [string, string][] = [];
  for await (const entry of readTar(path)) entries.push([entry.name, sha256Hex(await entry.bytes())]);
  return entries;
}

function hasTar(): boolean {
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('tar archives of backups', () => {
  let dir: string;
  /** Sizes around the 512-byte block, and one over the 1 MiB copy chunk. */
  const big = Buffer.from(Array.from({ length: (1 << 20) + 700 }, (_, i) => (i * 31) % 251));
  const files: [string, Buffer][] = [
    ['face3d-backup.json', Buffer.from('{"format":"face3d-backup"}\n')],
    ['database/face3d.db', big],
    ['photos/ab/empty', Buffer.alloc(0)],
    ['photos/cd/block', Buffer.alloc(512, 7)],
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'face3d-tar-'));
    writeFileSync(join(dir, 'big.bin'), big);
    const tar = await TarWriter.create(join(dir, 'a.tar'));
    for (const [name, bytes] of files) {
      if (name === 'database/face3d.db') await tar.addFile(name, join(dir, 'big.bin'));
      else await tar.addBytes(name, bytes);
    }
    await tar.finish();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads back what was written, in order', async () => {
    expect(await entriesOf(join(dir, 'a.tar'))).toEqual(files.map(([name, bytes]) => [name, sha256Hex(bytes)]));
  });

  it('streams an entry into a new file', async () => {
    for await (const entry of readTar(join(dir, 'a.tar'))) {
      if (entry.name === 'database/face3d.db') await entry.copyTo(join(dir, 'copy.bin'));
    }
    expect(readFileSync(join(dir, 'copy.bin')).equals(big)).toBe(true);
  });

  (hasTar() ? it : it.skip)('writes archives the system tar reads', () => {
    const listing = execFileSync('tar', ['-tf', join(dir, 'a.tar')], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual(files.map(([name]) => name));
    execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', dir]);
    expect(readFileSync(join(dir, 'photos/cd/block')).equals(files[3][1])).toBe(true);
  });

  it('refuses a damaged header and a truncated archive', async () => {
    const bytes = readFileSync(join(dir, 'a.tar'));
    bytes[3] ^= 0x01;
    writeFileSync(join(dir, 'damaged.tar'), bytes);
    await expect(entriesOf(join(dir, 'damaged.tar'))).rejects.toThrow(/checksum/);

    writeFileSync(join(dir, 'truncated.tar'), readFileSync(join(dir, 'a.tar')));
    truncateSync(join(dir, 'truncated.tar'), 4096);
    await expect(entriesOf(join(dir, 'truncated.tar'))).rejects.toThrow(/truncated/);
  });

  it('refuses names tar cannot hold', async () => {
    const tar = await TarWriter.create(join(dir, 'long.tar'));
    await expect(tar.addBytes('x'.repeat(101), Buffer.alloc(1))).rejects.toThrow(/longer than 100/);
    await tar.abandon();
  });
});
