// A minimal Prisma generator (JSON-RPC over stdin/stderr, the protocol `prisma generate` speaks)
// that writes the full DMMF datamodel to its output folder. The generated client only keeps a
// pruned copy, and the schema engine that could diff SQL is not available offline, so our own
// code derives SQL and schema checks from this file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { createInterface } from 'node:readline';

function reply(id, result) {
  process.stderr.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);
}

function writeDatamodel(options) {
  const outputDir = options.generator.output.value;
  mkdirSync(outputDir, { recursive: true });
  writeFileSync(join(outputDir, 'datamodel.json'), `${JSON.stringify(options.dmmf.datamodel, null, 2)}\n`);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const request = JSON.parse(line);
  if (request.method === 'getManifest') {
    reply(request.id, { manifest: { prettyName: 'DMMF datamodel (JSON)', defaultOutput: '../src/generated/dmmf' } });
  } else if (request.method === 'generate') {
    writeDatamodel(request.params);
    reply(request.id, null);
  }
});
