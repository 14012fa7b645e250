/**
 * A `MeshPool` thread: makes one download's files at a time (`runMeshExport`) and hands their
 * bytes back by transfer.
 */
import { parentPort } from 'node:worker_threads';
import { runMeshExport, type MeshExportJob } from './mesh-export.js';
import { ownedBuffers, type MeshExportReply } from './mesh-pool.js';

const port = parentPort;
if (!port) throw new Error('mesh-worker.ts runs as a worker thread of MeshPool only');

port.on('message', (job: MeshExportJob) => {
  runMeshExport(job).then(
    (exported) => port.postMessage({ exported } satisfies MeshExportReply, ownedBuffers(exported.files.map((file) => file.bytes))),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? error.message : String(error) } satisfies MeshExportReply),
  );
});
