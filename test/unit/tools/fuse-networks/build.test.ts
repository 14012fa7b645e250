/**
 * `npm run models:build` fuses the identity networks whose table rows name parts. The README
 * promises `up to date` when it runs again: the fused file must be made once per file, even where
 * two rows run the same file (fr-feature-expo and its flipped use), and not again on a second run.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FEATURE_NETWORKS, featureNetworkSpec } from '../../../../src/inference/feature-networks.js';
import { buildFusedNetworks } from '../../../../tools/fuse-networks/build.js';
import { readManifest } from '../../../../tools/tfjs-to-onnx/manifest.js';

const BUILT = path.join(process.cwd(), 'models/build');
const fusedRows = Object.values(FEATURE_NETWORKS).filter((row) => 'fusion' in row && row.fusion);
const fusedFiles: string[] = [...new Set(fusedRows.map((row) => row.model))];
const partFiles = [...new Set(fusedRows.flatMap((row) => ('fusion' in row ? row.fusion : []).map((part) => `${featureNetworkSpec(part.network).model}.onnx`)))];

describe('buildFusedNetworks', () => {
  let outDir = '';
  const lines: string[] = [];
  const build = () => buildFusedNetworks({ outDir, log: (line) => lines.push(line) });

  beforeAll(async () => {
    const missing = partFiles.filter((file) => !existsSync(path.join(BUILT, file)));
    if (missing.length > 0) throw new Error(`models/build lacks ${missing.join(', ')}: run npm run models:build`);
    outDir = await mkdtemp(path.join(tmpdir(), 'fused-build-'));
    for (const file of partFiles) await copyFile(path.join(BUILT, file), path.join(outDir, file));
  });
  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('fuses each file once, though several rows run it', async () => {
    expect(fusedRows.length).toBeGreaterThan(fusedFiles.length);
    const results = await build();
    expect(results.map((result) => [result.name, result.status])).toEqual(fusedFiles.map((file) => [file, 'converted']));
    expect(lines.filter((line) => /: fused in /.test(line))).toHaveLength(fusedFiles.length);
    const entries = (await readManifest(outDir)).models.filter((entry) => fusedFiles.includes(entry.name));
    expect(entries.map((entry) => entry.name).sort()).toEqual([...fusedFiles].sort());
  });

  it('says up to date when run again, and leaves the file as it was', async () => {
    const digests = () => Promise.all(fusedFiles.map(async (file) => createHash('sha256').update(await readFile(path.join(outDir, `${file}.onnx`))).digest('hex')));
    const before = await digests();
    lines.length = 0;
    const results = await build();
    expect(results.map((result) => result.status)).toEqual(fusedFiles.map(() => 'up to date'));
    expect(lines.every((line) => line.includes(': up to date'))).toBe(true);
    expect(await digests()).toEqual(before);
  });
});
