/**
 * Mesh downloads made off the event loop (issue 18): a FaceMesh face's shading refinement, photo
 * unwrap, subdivision and file writing (`runMeshExport`) take 0.2–0.4 s of CPU per photo, seconds
 * for a subject with eight photos, and on the server's own thread that would stall every other
 * request for as long. Here they run in a few worker threads (started on the first download,
 * holding the process open only while they work), with a bounded queue; a thread that dies fails
 * its download with a typed error and the next download starts a fresh one.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Face3dError } from '../core/errors.js';
import { runMeshExport, type MeshExport, type MeshExporter, type MeshExportJob } from './mesh-export.js';

export type MeshExportReply = { readonly exported: MeshExport; readonly error?: undefined } | { readonly error: string };

export interface MeshPoolOptions {
  /** Worker threads at most (default 1: downloads are rare, and the service's other work needs the cores); 0: in the caller's thread. */
  readonly threads?: number;
  /** Downloads waiting for a thread at most (default 16); one more is refused (RATE_LIMITED) rather than queued without end; 0: none waits. */
  readonly maxQueued?: number;
}

/** The ArrayBuffers these arrays own whole: those can be transferred (a view into a shared pool, as small Node Buffers are, is copied). */
export function ownedBuffers(arrays: readonly Uint8Array[]): ArrayBuffer[] {
  const owned = arrays.filter((array) => array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && array.buffer instanceof ArrayBuffer);
  return [...new Set(owned.map((array) => array.buffer as ArrayBuffer))];
}

/** The files' bytes as Buffers again: a Buffer crosses threads as a plain Uint8Array. */
function asBuffers(exported: MeshExport): MeshExport {
  return { ...exported, files: exported.files.map((file) => ({ ...file, bytes: Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength) })) };
}

/**
 * The compiled worker beside this module; from the TypeScript sources (ts-jest) there is no .js
 * sibling, so the build's under dist/ is used when there is one (rebuild after changing the export:
 * the tests compare its bytes with the sources' export). Undefined when neither exists: the pool
 * then makes downloads in this thread (only then: a test run without a build).
 */
function workerFile(): URL | undefined {
  const here = import.meta.url;
  const file = here.endsWith('.js') ? new URL('./mesh-worker.js', here) : new URL('../../dist/src/gallery/mesh-worker.js', here);
  return existsSync(fileURLToPath(file)) ? file : undefined;
}

interface Job {
  readonly request: MeshExportJob;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (exported: MeshExport) => void;
  readonly reject: (error: Error) => void;
}

export class MeshPool {
  private readonly threads: number;
  private readonly maxQueued: number;
  private readonly file = workerFile();
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job>();
  private readonly waiting: Job[] = [];
  private closed = false;

  constructor(options: MeshPoolOptions = {}) {
    this.threads = options.threads ?? 1;
    this.maxQueued = options.maxQueued ?? 16;
  }

  /** Whether downloads are made in worker threads (not when told 0 threads, or when no compiled worker exists). */
  get offThread(): boolean {
    return this.file !== undefined && this.threads > 0;
  }

  /**
   * `runMeshExport(job)` in a worker thread: the same bytes. With `transferPhotos` the photos'
   * pixels move to the worker (the caller must not read them afterwards); else they are copied.
   */
  run(job: MeshExportJob, options: { transferPhotos?: boolean } = {}): Promise<MeshExport> {
    if (this.closed) return Promise.reject(new Face3dError('INTERNAL', 'the mesh export pool is closed'));
    if (!this.offThread) return runMeshExport(job);
    const threadFree = this.idle.length > 0 || this.running.size < this.threads;
    if (!threadFree && this.waiting.length >= this.maxQueued) {
      return Promise.reject(new Face3dError('RATE_LIMITED', `${this.waiting.length} mesh downloads are waiting to be made already: retry shortly`));
    }
    return new Promise((resolve, reject) => {
      const transfer = options.transferPhotos ? ownedBuffers(job.photos.map((photo) => photo.image.data)) : [];
      this.waiting.push({ request: job, transfer, resolve, reject });
      this.dispatch();
    });
  }

  /** {@link run} as `exportMesh` takes it. */
  exporter(options: { transferPhotos?: boolean } = {}): MeshExporter {
    return (job) => this.run(job, options);
  }

  /** Ends the threads; waiting and running downloads fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Face3dError('INTERNAL', 'the service is shutting down'));
    const workers = [...this.idle.splice(0), ...this.running.keys()];
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.waiting.length > 0 && (this.idle.length > 0 || this.running.size < this.threads)) {
      const worker = this.idle.pop() ?? this.spawn();
      const job = this.waiting.shift()!;
      this.running.set(worker, job);
      worker.ref();
      worker.postMessage(job.request, job.transfer);
    }
  }

  private spawn(): Worker {
    const worker = new Worker(this.file!);
    let failure: Error | undefined;
    worker.on('message', (reply: MeshExportReply) => {
      const job = this.running.get(worker);
      this.running.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if (reply.error === undefined) job?.resolve(asBuffers(reply.exported));
      else job?.reject(new Face3dError('INTERNAL', `the mesh export failed: ${reply.error}`));
      this.dispatch();
    });
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', (code) => {
      const job = this.running.get(worker);
      this.running.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      const why = failure ? failure.message : `exit code ${code}`;
      job?.reject(new Face3dError('INTERNAL', this.closed ? 'the service is shutting down' : `the mesh export thread died (${why})`, { cause: failure }));
      if (!this.closed) this.dispatch();
    });
    return worker;
  }
}
