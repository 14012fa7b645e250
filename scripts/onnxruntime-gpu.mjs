// onnxruntime-node's own install script downloads CUDA libraries from NuGet, which fails offline, so
// package.json's allowScripts denies it and `npm ci` installs the CPU build. A GPU user opts in with
// `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci`: this root postinstall then runs that script, which reads
// the same variable.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import process from 'node:process';

const flag = process.env.ONNXRUNTIME_NODE_INSTALL?.trim();
if (flag && flag !== 'skip') {
  const installer = createRequire(import.meta.url).resolve('onnxruntime-node/script/install');
  const { status } = spawnSync(process.execPath, [installer], { stdio: 'inherit' });
  process.exitCode = status ?? 1;
}
