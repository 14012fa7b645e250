/**
 * The README's first session, as a newcomer pastes it: the block after its marker runs in bash in an
 * empty folder, against the built CLI (`npm start` and `npx face3d` stand for it), on a free port
 * instead of 4000. It must start the server, make a key, enroll a photo, wait for READY, identify
 * another photo of the same person and download a valid GLB, without edits.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateBytes } from 'gltf-validator';
import { freePort } from '../../bench/child-server.js';
import { parseGlb } from '../helpers/glb-reader.js';
import { assertCliBuilt, CLI, runProgram } from '../helpers/cli.js';

const MARKER = '<!-- test/integration/readme-first-session.test.ts runs the next block as it stands -->';

/** The ```sh block right after the marker. */
function firstSessionBlock(readme: string): string {
  const at = readme.indexOf(MARKER);
  if (at < 0) throw new Error(`README.md has no "${MARKER}"`);
  const block = /^```sh\n([\s\S]*?)^```$/m.exec(readme.slice(at + MARKER.length));
  if (!block) throw new Error('no ```sh block after the first-session marker');
  return block[1];
}

/** The block with the built CLI for `npm start` / `npx face3d`, and `port` for 4000: what else it does is the README's. */
function runnable(block: string, port: number): string {
  for (const part of ['npm start', 'npx face3d', 'localhost:4000']) expect(block).toContain(part);
  return block.replaceAll('npm start', `node '${CLI}' serve`).replaceAll('npx face3d', `node '${CLI}'`).replaceAll('localhost:4000', `localhost:${port}`);
}

let dir: string;

beforeAll(async () => {
  assertCliBuilt();
  dir = await mkdtemp(join(tmpdir(), 'face3d-readme-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the README's first session", () => {
  it('runs as written in an empty folder: key, enroll, READY, identify, mesh', async () => {
    const port = await freePort();
    const session = runnable(firstSessionBlock(readFileSync('README.md', 'utf8')), port);
    // After the block, as the README says: a GET without the preflight header is refused.
    const unguardedGet = `curl -s -o /dev/null -w 'GET without preflight: %{http_code}\\n' -G localhost:${port}/graphql -H "authorization: Bearer $KEY" --data-urlencode 'query={ serverInfo { subjects } }'`;
    // At the end, the README's `kill %1`: the server must be gone within seconds, as a newcomer's (or a supervisor's) SIGTERM expects.
    const stop = `rc=$?; kill $(jobs -p) 2>/dev/null; for i in $(seq 40); do [ -z "$(jobs -pr)" ] && exit $rc; sleep 0.25; done; echo "the server still runs 10 s after SIGTERM" >&2; kill -9 $(jobs -p); exit 1`;
    const script = `set -e\ntrap '${stop}' EXIT\n${session}\n${unguardedGet}\n`;
    // Nothing of this machine's own gallery or key settings, and no NODE_ENV=test from jest: the newcomer's defaults.
    const env = { PORT: String(port), DATABASE_URL: '', FACE3D_DATA_DIR: '', FACE3D_ADMIN_KEY: '', FACE3D_API_KEY: '', HOST: '', NODE_ENV: '' };
    const { code, stdout, stderr } = await runProgram('bash', ['-c', script], env, dir);
    const log = existsSync(join(dir, 'face3d.log')) ? readFileSync(join(dir, 'face3d.log'), 'utf8') : '(no face3d.log)';
    expect({ code, stderr: code === 0 ? '' : `${stderr}\n--- face3d.log ---\n${log}` }).toEqual({ code: 0, stderr: '' });

    expect(log).toContain('no API keys yet');
    expect(stdout).toContain('{"data":{"photo":{"status":"READY","error":null},"serverInfo":{"subjects":1,"enrolledFaces":1}}}');
    const identify = JSON.parse(stdout.split('\n').find((line) => line.includes('"identify"'))!) as { data: { identify: { unknown: boolean; matches: { subject: { name: string } }[] } } };
    expect(identify.data.identify.unknown).toBe(false);
    expect(identify.data.identify.matches[0].subject.name).toBe('Ada');
    expect(stdout).toContain('GET without preflight: 400');

    const glb = await readFile(join(dir, 'ada.glb'));
    const report = await validateBytes(new Uint8Array(glb), { format: 'glb', writeTimestamp: false });
    expect(report.issues.messages.filter((message) => message.severity === 0)).toEqual([]);
    expect(Object.keys(parseGlb(glb).json.meshes?.[0].primitives[0].attributes ?? {})).not.toContain('COLOR_0');
  });
});
