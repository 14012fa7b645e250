/**
 * What a newcomer meets in the first hour, through the built CLI as child processes: how to get a
 * key at start-up, which gallery a command used, a port in use, a subscription without a key, a
 * reader that stops early, and `--version` (`detect`'s exit status: cli-detect.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { childServerEnv, freePort, startChildServer, stopChildServer, type ChildServer } from '../../bench/child-server.js';
import { ApiClient, dataOf } from '../../src/api/http-client.js';
import { GalleryStore } from '../../src/store/gallery-store.js';
import { SubjectRepository } from '../../src/store/subject-repository.js';
import { openDatabase } from '../../src/store/database.js';
import { assertCliBuilt, CLI, runCli, runProgram } from '../helpers/cli.js';

let root: string;
const servers: ChildServer[] = [];

async function serve(dir: string, extra: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  const server = await startChildServer(childServerEnv(dir, await freePort(), extra));
  servers.push(server);
  return server;
}

/** graphql-ws's handshake with `payload` as connectionParams: the close code and reason, or 'ack'. */
function connectSubscriptions(url: string, payload?: Record<string, unknown>): Promise<{ code: number; reason: string } | 'ack'> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', ...(payload && { payload }) })));
    socket.on('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type !== 'connection_ack') return;
      socket.close();
      resolve('ack');
    });
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
    socket.on('error', reject);
  });
}

const STACK_LINE = /^\s+at /m;

/** The server's stderr once it holds `text` (the line after the start-up line may come a moment later). */
async function logWith(server: ChildServer, text: string): Promise<string> {
  for (let waited = 0; !server.log().includes(text) && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  return server.log();
}

beforeAll(async () => {
  assertCliBuilt();
  root = await mkdtemp(join(tmpdir(), 'face3d-first-hour-'));
});

afterAll(async () => {
  for (const server of servers) await stopChildServer(server);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('getting a key at start-up', () => {
  it('says FACE3D_ADMIN_KEY was registered, without printing it, and the key works', async () => {
    const key = 'a-newcomer-admin-key-0123456789abcdef';
    const server = await serve(join(root, 'with-key'), { FACE3D_ADMIN_KEY: key });
    expect(await logWith(server, 'FACE3D_ADMIN_KEY is registered')).toContain('FACE3D_ADMIN_KEY is registered as an admin key: clients send "Authorization: Bearer <key>"');
    expect(server.log()).not.toContain(key);
    expect(dataOf(await new ApiClient(server.url, key).query<{ serverInfo: { bundle: string } }>('{ serverInfo { bundle } }')).serverInfo.bundle).toBe('lfw-facemesh-v2');
  });

  it('names its gallery; without any key, prints the command that makes one there; that command works as printed', async () => {
    const dir = join(root, 'no-key');
    const server = await serve(dir, { FACE3D_ADMIN_KEY: '' });
    const command = /no API keys yet, so every request is refused: make an admin key with `(DATABASE_URL=(\S+) npx face3d keys create --role admin)`/.exec(await logWith(server, 'no API keys yet'));
    expect(command?.[2]).toBe(`file:${join(dir, 'face3d.db')}`);
    expect(server.banner).toContain(`(gallery file:${join(dir, 'face3d.db')}; bundles`);

    const created = await runCli(['keys', 'create', '--role', 'admin'], { DATABASE_URL: command![2] });
    expect(created.code).toBe(0);
    expect(created.stderr).toContain(`face3d: gallery file:${join(dir, 'face3d.db')}\n`);
    const key = created.stdout.trim();
    expect(dataOf(await new ApiClient(server.url, key).query<{ serverInfo: { bundle: string } }>('{ serverInfo { bundle } }')).serverInfo.bundle).toBe('lfw-facemesh-v2');

    // The API's spelling of a role works too; another word is misuse (exit status 2) and makes no key.
    const upper = await runCli(['keys', 'create', '--role', 'READ'], { DATABASE_URL: command![2] });
    expect(upper.code).toBe(0);
    expect(upper.stderr).toContain('face3d: created read key');
    const wrong = await runCli(['keys', 'create', '--role', 'superuser'], { DATABASE_URL: command![2] });
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain("option '--role <role>' argument 'superuser' is invalid. must be one of admin, enroll, read");
    const listed = await runCli(['keys', 'list'], { DATABASE_URL: command![2] });
    expect(listed.stdout.trim().split('\n').map((line) => line.split('\t')[1])).toEqual(['admin', 'read']);
  });
});

describe('which gallery the CLI uses', () => {
  it('refuses to manage keys of, or check, a gallery that does not exist, and creates nothing', async () => {
    const cwd = join(root, 'elsewhere');
    await mkdir(cwd);
    const defaulted = await runCli(['keys', 'create', '--role', 'enroll'], { DATABASE_URL: '' }, cwd);
    expect(defaulted.code).toBe(1);
    expect(defaulted.stdout).toBe('');
    expect(defaulted.stderr).toContain(`face3d: NOT_FOUND: no gallery at file:${join(cwd, 'data', 'face3d.db')} (DATABASE_URL is not set`);
    expect(existsSync(join(cwd, 'data'))).toBe(false);

    const named = await runCli(['keys', 'list'], { DATABASE_URL: `file:${join(root, 'typo.db')}` });
    expect(named.code).toBe(1);
    expect(named.stderr).toContain(`no gallery at file:${join(root, 'typo.db')} (DATABASE_URL)`);
    expect(existsSync(join(root, 'typo.db'))).toBe(false);

    const checked = await runCli(['check', '--json'], { DATABASE_URL: `file:${join(root, 'typo.db')}` });
    expect(checked.code).toBe(1);
    expect(JSON.parse(checked.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(existsSync(join(root, 'typo.db'))).toBe(false);
  });
});

describe('face3d serve', () => {
  it('says the port is in use, with a code and no stack, and exits 1', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const { code, stderr } = await runCli(['serve'], childServerEnv(join(root, 'port-taken'), port) as Record<string, string>);
      expect(code).toBe(1);
      expect(stderr).toContain(`face3d: PORT_IN_USE: port ${port} is in use on 127.0.0.1`);
      expect(stderr).not.toMatch(STACK_LINE);
      expect(stderr).not.toContain('Internal error');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('closes a subscription connection without a key with a reason that says what to send', async () => {
    const key = 'a-subscriber-admin-key-0123456789abcdef';
    const server = await serve(join(root, 'subscriptions'), { FACE3D_ADMIN_KEY: key });
    expect(await connectSubscriptions(server.url)).toEqual({ code: 4403, reason: "Forbidden: no API key: send connectionParams: { authorization: 'Bearer <key>' }" });
    expect(await connectSubscriptions(server.url, { authorization: 'Bearer wrong' })).toEqual({ code: 4403, reason: 'Forbidden: the API key is not valid (unknown or revoked)' });
    expect(await connectSubscriptions(server.url, { authorization: `Bearer ${key}` })).toBe('ack');
  });
});

describe('serverInfo', () => {
  it('counts every subject, with a face or not yet', async () => {
    const key = 'a-counting-admin-key-0123456789abcdef';
    const api = new ApiClient((await serve(join(root, 'counts'), { FACE3D_ADMIN_KEY: key })).url, key);
    dataOf(await api.query('mutation { createSubject(input: { name: "No photo yet" }) { id } }'));
    const counts = dataOf(await api.query<{ serverInfo: { subjects: number; enrolledFaces: number } }>('{ serverInfo { subjects enrolledFaces } }')).serverInfo;
    expect(counts).toEqual({ subjects: 1, enrolledFaces: 0 });
  });
});

describe('the CLI in scripts', () => {
  it('prints its version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const { code, stdout } = await runCli(['--version']);
    expect({ code, stdout }).toEqual({ code: 0, stdout: `${version}\n` });
  });

  it('stops quietly, with status 0, when the reader of its output stops early', async () => {
    const url = `file:${join(root, 'export', 'face3d.db')}`;
    const database = await openDatabase(url);
    try {
      const subjects = new SubjectRepository(new GalleryStore(database.prisma, { provider: database.provider }));
      // Far more than a pipe holds, so the export is still writing when `head` is gone.
      for (let i = 0; i < 600; i++) await subjects.create({ name: `Subject ${i} ${'x'.repeat(180)}` });
    } finally {
      await database.close();
    }
    const { code, stderr } = await runProgram('bash', ['-c', `set -o pipefail; node '${CLI}' subjects export | head -c 100 > /dev/null`], { DATABASE_URL: url });
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});
