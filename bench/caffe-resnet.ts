/**
 * What serving the CNN3DMM release costs on this machine: a ResNet-101-shaped Caffe network with
 * random weights (the paper's regressor, 198 outputs, 224 x 224 BGR input) is written, converted
 * to ONNX by `face3d import caffe`'s converter and timed beside our own regressor (faceres
 * identity features + the bundle's head), in the same run, on the same ONNX Runtime settings.
 * Photos/second count network time only (no decoding, detection or cropping).
 *   npm run bench:caffe -- [--photos 20] [--batch 8]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { config } from '../src/core/config.js';
import { convertCaffeModel } from '../src/import/caffe/convert.js';
import { closeAllModels, loadModel, type OnnxModel } from '../src/inference/onnx-runtime.js';
import { inferenceSettings } from '../src/inference/inference-settings.js';
import { mulberry32 } from '../src/training/random.js';
import { RESNET_101, resnetNet, uniformBlob, writeCaffemodel, writeMeanBinaryproto, writePrototxt } from '../tools/import/caffe-synthetic.js';

const { values } = parseArgs({ options: { photos: { type: 'string', default: '20' }, batch: { type: 'string', default: '8' } } });
const photos = Number(values.photos);
const batch = Number(values.batch);

interface Pipeline {
  readonly label: string;
  /** Runs `n` photos as one batch. */
  run(n: number): Promise<void>;
}

function randomInput(dims: readonly number[], seed: number): Float32Array {
  return uniformBlob(mulberry32(seed), dims, 0, 255).data;
}

function single(label: string, model: OnnxModel, itemDims: readonly number[]): Pipeline {
  const item = randomInput(itemDims, 1);
  return {
    label,
    async run(n) {
      const data = new Float32Array(item.length * n);
      for (let i = 0; i < n; i++) data.set(item, i * item.length);
      await model.run({ [model.inputNames[0]]: { data, dims: [n, ...itemDims] } });
    },
  };
}

function chained(label: string, features: OnnxModel, head: OnnxModel): Pipeline {
  const item = randomInput([224, 224, 3], 2);
  return {
    label,
    async run(n) {
      const data = new Float32Array(item.length * n);
      for (let i = 0; i < n; i++) data.set(item, i * item.length);
      const out = await features.run({ [features.inputNames[0]]: { data, dims: [n, 224, 224, 3] } });
      await head.run({ [head.inputNames[0]]: { data: out.embedding.data, dims: [n, 1024] } });
    },
  };
}

/** Photos per second over `photos` photos, `size` at a time, after one warm-up batch. */
async function throughput(pipeline: Pipeline, size: number): Promise<number> {
  await pipeline.run(size);
  const started = performance.now();
  for (let done = 0; done < photos; done += size) await pipeline.run(Math.min(size, photos - done));
  return photos / ((performance.now() - started) / 1000);
}

const dir = await mkdtemp(join(tmpdir(), 'face3d-bench-caffe-'));
try {
  let started = performance.now();
  const net = resnetNet({ ...RESNET_101, seed: 1 });
  const prototxt = writePrototxt(net);
  const caffemodel = writeCaffemodel(net);
  const mean = writeMeanBinaryproto(uniformBlob(mulberry32(3), [1, 3, 224, 224], 90, 130));
  const writeSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const converted = convertCaffeModel({ prototxt, caffemodel, mean });
  const convertSeconds = (performance.now() - started) / 1000;
  const onnxPath = join(dir, 'cnn3dmm-resnet101.onnx');
  await writeFile(onnxPath, converted.onnx);

  const { modelsDir, threads, device } = config();
  const { runtime } = inferenceSettings(config());
  const [cnn, faceres, head] = await Promise.all([
    loadModel(onnxPath, runtime),
    loadModel(join(modelsDir, 'build', 'faceres.onnx'), runtime),
    loadModel(join(modelsDir, 'lfw-facemesh-v2', 'regressor.onnx'), runtime),
  ]);
  const pipelines = [single('CNN3DMM ResNet-101 (converted Caffe, random weights)', cnn, [3, 224, 224]), chained('ours: faceres features + lfw-facemesh-v2 head', faceres, head)];
  const rows: string[] = [];
  for (const pipeline of pipelines) {
    const one = await throughput(pipeline, 1);
    const many = await throughput(pipeline, batch);
    rows.push(`| ${pipeline.label} | ${one.toFixed(2)} | ${many.toFixed(2)} |`);
  }
  const parameters = net.layers.flatMap((l) => l.blobs ?? []).reduce((n, b) => n + b.data.length, 0);
  console.log(`ResNet-101-shaped Caffe net: ${net.layers.length} layers, ${(parameters / 1e6).toFixed(1)} M parameters, caffemodel ${(caffemodel.length / 2 ** 20).toFixed(0)} MiB; ` +
    `written in ${writeSeconds.toFixed(1)} s, converted in ${convertSeconds.toFixed(1)} s to ${converted.nodes} ONNX nodes (${(converted.onnx.length / 2 ** 20).toFixed(0)} MiB).`);
  console.log(`ONNX Runtime on ${cnn.provider} (FACE3D_DEVICE=${device}, threads ${threads || 'auto'}), ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()[0].toFixed(2)}; ${photos} photos per figure.\n`);
  console.log(`| network (network time only) | photos/s, batch 1 | photos/s, batch ${batch} |`);
  console.log('| --- | --- | --- |');
  for (const row of rows) console.log(row);
} finally {
  await closeAllModels();
  await rm(dir, { recursive: true, force: true });
}
