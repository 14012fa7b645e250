/**
 * The built CLI as a child process, and small folder-per-person photo sets for it: LFW test-split
 * people when ../shared holds them, else faces rendered from the bundle's 3DMM (the detector
 * finds those too), so the CLI tests run either way.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { defaultBundleDir } from '../../src/inference/face-encoder.js';
import { loadBundle, type Bundle } from '../../src/morphable/bundle.js';
import { reconstructMesh } from '../../src/morphable/reconstruct.js';
import { renderMesh } from '../../src/mesh/render.js';
import { mulberry32, randomNormal } from '../../src/training/random.js';
import { lfwPeople } from './lfw.js';

export const CLI = join(process.cwd(), 'dist/src/cli/main.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Fails fast with the fix when dist is missing, rather than with every test's spawn error. */
export function assertCliBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npx tsc -p tsconfig.build.json`);
}

export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}, cwd?: string): Promise<CliResult> {
  return runProgram('node', [CLI, ...args], env, cwd);
}

/** Any program (`bash -c` for a pipeline), with `env` over this process's environment. */
export function runProgram(file: string, args: readonly string[], env: Readonly<Record<string, string>> = {}, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** JSON lines of stdout, each parsed. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface PeopleFolder {
  readonly source: 'lfw' | 'rendered';
  /** Person folder name → photo file names, in the order written. */
  readonly people: ReadonlyMap<string, readonly string[]>;
}

async function renderedFace(bundle: Bundle, shape: Float32Array, texture: Float32Array, yawDeg: number): Promise<Buffer> {
  const image = renderMesh(reconstructMesh(bundle, { shape, texture }), { width: 250, height: 250, mode: 'textured', ambient: 0.6, background: [200, 200, 200], yawDeg });
  return sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } }).jpeg().toBuffer();
}

/** `count` people with `photos` photos each under `dir`: LFW's when present, rendered otherwise. */
export async function makePeopleFolder(dir: string, count: number, photos: number): Promise<PeopleFolder> {
  const people = new Map<string, string[]>();
  const lfw = lfwPeople(photos)?.slice(0, count);
  if (lfw && lfw.length === count) {
    for (const person of lfw) {
      await mkdir(join(dir, person.name), { recursive: true });
      const files = person.photos.slice(0, photos).map((path) => path.split('/').at(-1)!);
      for (const [i, file] of files.entries()) await copyFile(person.photos[i], join(dir, person.name, file));
      people.set(person.name, files);
    }
    return { source: 'lfw', people };
  }
  console.warn(`LFW is not in ../shared/datasets/lfw/dev: using faces rendered from the 3DMM instead`);
  return renderedPeopleFolder(dir, count, photos);
}

/**
 * People of random 3DMM coefficients, each photo turned a little further. Every second person is the
 * one before with every coefficient negated: faces rendered from one model look alike to an identity
 * network (two random ones scored 0.36, over the 0.28 a one-template verify accepts at FPIR 1%), and
 * a pair as far apart as the model allows (0.11) is what "two different people" needs.
 */
export async function renderedPeopleFolder(dir: string, count: number, photos: number): Promise<PeopleFolder> {
  const people = new Map<string, string[]>();
  const bundle = await loadBundle(defaultBundleDir());
  const random = mulberry32(7);
  let shape = new Float32Array(0);
  let texture = new Float32Array(0);
  for (let p = 0; p < count; p++) {
    const name = `Rendered_Person_${p + 1}`;
    if (p % 2 === 0) {
      shape = Float32Array.from({ length: bundle.manifest.shape.components }, () => randomNormal(random));
      texture = Float32Array.from({ length: bundle.manifest.texture.components }, () => randomNormal(random));
    } else {
      shape = shape.map((v) => -v);
      texture = texture.map((v) => -v);
    }
    await mkdir(join(dir, name), { recursive: true });
    const files = Array.from({ length: photos }, (_, i) => `${name}_${String(i + 1).padStart(4, '0')}.jpg`);
    for (const [i, file] of files.entries()) await writeFile(join(dir, name, file), await renderedFace(bundle, shape, texture, (i - (photos - 1) / 2) * 10));
    people.set(name, files);
  }
  return { source: 'rendered', people };
}
