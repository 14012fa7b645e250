/**
 * Mesh downloads beside other requests, over real HTTP (issue 18): one LFW person's 8 photos
 * enrolled in a fresh gallery, then the same server (in this process) started with its downloads
 * made in the request's own thread (FACE3D_MESH_THREADS=0, as before the pool) and in one worker
 * thread (the default). Per way: identify by photoId alone (latency), then the subject's GLB
 * downloaded back to back while identify by photoId runs one request after another (download
 * time, identify latency), and the event loop's longest stall meanwhile.
 *   npx tsc -p tsconfig.build.json && node dist/bench/mesh-download.js [--root ../shared/datasets/lfw/dev] [--downloads 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, dataOf } from '../src/api/http-client.js';
import { loadConfig } from '../src/core/config.js';
import { listPeople } from '../src/dataset/folder-dataset.js';
import { startServer } from '../src/server.js';
import { createSubject, ENROLL_PHOTOS, IDENTIFY, percentile, readPhoto, type EnrollPhotosData } from './api-helpers.js';

const { values: options } = parseArgs({
  options: { root: { type: 'string', default: '../shared/datasets/lfw/dev' }, downloads: { type: 'string', default: '3' } },
});
const DOWNLOADS = Number(options.downloads);
const PHOTOS = 8;
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const MESH = 'query($id: ID!) { subject(id: $id) { mesh(format: GLB) { url } } }';

interface Figures {
  readonly way: string;
  readonly aloneMs: number[];
  readonly downloadMs: number[];
  readonly besideMs: number[];
  readonly stallMs: number;
}

async function measureWay(dir: string, meshThreads: string, subjectId: string, photoIds: readonly string[]): Promise<Figures> {
  const config = loadConfig({ ...process.env, DATABASE_URL: `file:${join(dir, 'face3d.db')}`, HOST: '127.0.0.1', PORT: '0', FACE3D_ADMIN_KEY: ADMIN_KEY, FACE3D_MESH_THREADS: meshThreads });
  const server = await startServer({ config, log: () => undefined });
  try {
    const client = new ApiClient(server.url, ADMIN_KEY);
    const identify = async (i: number): Promise<number> => {
      const start = performance.now();
      dataOf(await client.query(IDENTIFY, { photoId: photoIds[i % photoIds.length] }));
      return performance.now() - start;
    };
    const aloneMs: number[] = [];
    for (let i = 0; i < 30; i++) aloneMs.push(await identify(i));
    const { url } = dataOf(await client.query<{ subject: { mesh: { url: string } } }>(MESH, { id: subjectId })).subject.mesh;

    let last = performance.now();
    let stallMs = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      stallMs = Math.max(stallMs, now - last - 2);
      last = now;
    }, 2);
    const downloadMs: number[] = [];
    let downloading = true;
    const downloads = (async () => {
      for (let i = 0; i < DOWNLOADS; i++) {
        const start = performance.now();
        const response = await client.download(url);
        if (response.status !== 200) throw new Error(`download answered ${response.status}`);
        await response.arrayBuffer();
        downloadMs.push(performance.now() - start);
      }
      downloading = false;
    })();
    const besideMs: number[] = [];
    while (downloading) besideMs.push(await identify(besideMs.length));
    await downloads;
    clearInterval(ticker);
    return { way: meshThreads === '0' ? "in the request's thread (FACE3D_MESH_THREADS=0, as before)" : `MeshPool, ${meshThreads} thread`, aloneMs, downloadMs, besideMs, stallMs };
  } finally {
    await server.close();
  }
}

async function main(): Promise<void> {
  const person = (await listPeople(options.root)).find((candidate) => candidate.images.length >= PHOTOS);
  if (!person) throw new Error(`need a person with ${PHOTOS}+ photos in ${options.root}`);
  const dir = mkdtempSync(join(tmpdir(), 'face3d-bench-mesh-'));
  try {
    // Enrolled once, by a server whose mesh pool is never used.
    const config = loadConfig({ ...process.env, DATABASE_URL: `file:${join(dir, 'face3d.db')}`, HOST: '127.0.0.1', PORT: '0', FACE3D_ADMIN_KEY: ADMIN_KEY });
    const server = await startServer({ config, log: () => undefined });
    let subjectId: string;
    let photoIds: string[];
    try {
      const client = new ApiClient(server.url, ADMIN_KEY);
      subjectId = await createSubject(client, person.name);
      const files = Object.fromEntries(await Promise.all(person.images.slice(0, PHOTOS).map(async (path, i) => [`variables.p.${i}`, await readPhoto(join(options.root, path))] as const)));
      photoIds = dataOf(await client.upload<EnrollPhotosData>(ENROLL_PHOTOS, { s: subjectId, p: Array(PHOTOS).fill(null) }, files)).enrollPhotos.photos.map((photo) => photo.id);
      await server.worker.idle();
    } finally {
      await server.close();
    }
    const figures = [await measureWay(dir, '0', subjectId, photoIds), await measureWay(dir, '1', subjectId, photoIds)];
    const ms = (values: number[], p: number) => percentile([...values].sort((a, b) => a - b), p).toFixed(0);
    console.log(
      [
        `${person.name}: ${PHOTOS} photos enrolled; ${DOWNLOADS} GLB downloads of the subject back to back per way. Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load average ${loadavg()[0].toFixed(1)} at the end, Node ${process.version}.`,
        '',
        '| mesh made | identify alone p50 / max ms | download ms (p50, max) | identify beside downloads: n, p50 / max ms | longest event-loop stall ms |',
        '|---|---:|---:|---:|---:|',
        ...figures.map((f) => `| ${f.way} | ${ms(f.aloneMs, 0.5)} / ${ms(f.aloneMs, 1)} | ${ms(f.downloadMs, 0.5)}, ${ms(f.downloadMs, 1)} | ${f.besideMs.length}, ${ms(f.besideMs, 0.5)} / ${ms(f.besideMs, 1)} | ${f.stallMs.toFixed(0)} |`),
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
