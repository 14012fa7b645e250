/**
 * `face3d serve` (the built CLI, dist/src/cli/main.js) as a child process on a loopback port, and
 * `face3d worker` beside it: for benchmarks that measure the server's own memory and tests that kill it. Shared by bench/load.ts
 * and the integration tests (recovery, crashes, load, backup); `npm run build` must have run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { findPackageRoot } from '../src/core/config.js';

export const CLI_PATH = join(findPackageRoot(), 'dist/src/cli/main.js');
/** The admin key child servers bootstrap (FACE3D_ADMIN_KEY). */
export const CHILD_ADMIN_KEY = 'child-admin-key-0123456789abcdef';

/** Kept of the child's stderr, for the message of a failure. */
const LOG_TAIL_CHARS = 20_000;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The environment of a server on `dir` (database and photos inside it), loopback only, admin key CHILD_ADMIN_KEY. */
export function childServerEnv(dir: string, port: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: `file:${join(dir, 'face3d.db')}`,
    FACE3D_DATA_DIR: join(dir, 'photos'),
    HOST: '127.0.0.1',
    PORT: String(port),
    FACE3D_ADMIN_KEY: CHILD_ADMIN_KEY,
    ...extra,
  };
}

export interface ChildServer {
  readonly child: ChildProcess;
  /** The start-up line, e.g. "face3d: serving ... jobs requeued 1, failed 0, repaired 0)". */
  readonly banner: string;
  /** http://127.0.0.1:port */
  readonly url: string;
  /** The last of what the server wrote to stderr. */
  log(): string;
}

/**
 * `face3d <command>` with `env`, once it printed a stderr line starting with `readyPrefix`.
 * `wrapper`: a command that runs its arguments (node and the CLI) after setting something up, such
 * as a small file system in a mount namespace of its own; it must exec them, so the pid is node's.
 */
function startChild(command: string, env: NodeJS.ProcessEnv, readyPrefix: string, wrapper: readonly string[] = []): Promise<{ child: ChildProcess; banner: string; log: () => string }> {
  if (!existsSync(CLI_PATH)) return Promise.reject(new Error(`${CLI_PATH} is missing: run npm run build`));
  const [program, ...args] = [...wrapper, process.execPath, CLI_PATH, command];
  const child = spawn(program, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const log = (): string => stderr;
  return new Promise((resolve, reject) => {
    let started = false;
    // Read to the end, so a chatty process never blocks on a full pipe.
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS);
      const banner = started ? undefined : stderr.split('\n').find((line) => line.startsWith(readyPrefix));
      if (!banner) return;
      started = true;
      resolve({ child, banner, log });
    });
    child.once('exit', (code, signal) => {
      if (!started) reject(new Error(`face3d ${command} exited with ${code ?? signal} before it was ready:\n${stderr}`));
    });
  });
}

/** Starts `face3d serve` with `env` (under `wrapper`, see startChild) and waits for its start-up line. */
export async function startChildServer(env: NodeJS.ProcessEnv, wrapper?: readonly string[]): Promise<ChildServer> {
  return { ...(await startChild('serve', env, 'face3d: serving', wrapper)), url: `http://127.0.0.1:${env.PORT}` };
}

/** Starts `face3d worker` with `env` (a gallery's DATABASE_URL and FACE3D_DATA_DIR), under `wrapper` (see startChild), and waits for its start-up line. */
export function startChildWorker(env: NodeJS.ProcessEnv, wrapper?: readonly string[]): Promise<{ child: ChildProcess; log: () => string }> {
  return startChild('worker', env, 'face3d worker: running', wrapper);
}

export function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Sends `signal` and waits for the process to be gone; its exit code (null when killed by a signal). */
export async function stopChildServer(server: ChildServer, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  server.child.kill(signal);
  return exited(server.child);
}

/** Resident set size of a live process, in bytes (Linux only: read from /proc). */
export function residentBytes(pid: number): number {
  const status = `/proc/${pid}/status`;
  if (existsSync(status)) {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(status, 'utf8'));
    if (match) return Number(match[1]) * 1024;
  }
  throw new Error(`cannot read the resident memory of process ${pid} (needs Linux /proc)`);
}
