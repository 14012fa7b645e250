/**
 * The one module that touches onnxruntime-node: callers see plain Float32Array tensors, so the
 * runtime (and its execution provider) can change without touching them.
 */
import { access, readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import type { Device } from '../core/config.js';
import { Face3dError } from '../core/errors.js';
import { cpuGraph, NCHWC_REWRITES, type CpuGraphChanges } from './cpu-graph.js';

export type Provider = 'cpu' | 'cuda';

export interface TensorData {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export type Feeds = Readonly<Record<string, TensorData>>;
export type Outputs = Record<string, TensorData>;

export interface RuntimeOptions {
  readonly device: Device;
  /** Intra-op threads; 0 lets ONNX Runtime choose. */
  readonly threads: number;
  /**
   * ONNX Runtime's graph optimisation level (default `all`). Some graphs run faster at a lower level
   * (measured per network: feature-networks.ts).
   */
  readonly graphOptimization?: GraphOptimization;
}

export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface OnnxModel {
  readonly path: string;
  readonly provider: Provider;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Feeds): Promise<Outputs>;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

/**
 * ONNX Runtime fixes its log level, process-wide, when the first session is created. Its
 * native lines duplicate the errors we throw, and a missing CUDA under `auto` is expected and
 * reported by our own single line, so only fatal native messages are let through.
 */
ort.env.logLevel = 'fatal';

/** y = x for a 1-element float: the cheapest model that makes a provider prove it can load. */
function probeModel(): Uint8Array {
  const { onnx } = onnxProto;
  const scalar = { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'probe',
      node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
      input: [{ name: 'x', type: scalar }],
      output: [{ name: 'y', type: scalar }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

async function providerWorks(provider: Provider): Promise<unknown> {
  try {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: [provider] });
    await session.release();
    return undefined;
  } catch (error) {
    return error;
  }
}

async function chooseProvider(device: Device): Promise<Provider> {
  if (device === 'cpu') return 'cpu';
  const cudaError = await providerWorks('cuda');
  if (device === 'cuda') {
    if (cudaError === undefined) return 'cuda';
    throw new Face3dError(
      'MODEL_UNAVAILABLE',
      `FACE3D_DEVICE=cuda but the CUDA execution provider is unavailable (${firstLine(cudaError)}); ` +
        'install CUDA 12 with cuDNN 9 and the onnxruntime-node CUDA binaries, or set FACE3D_DEVICE=cpu or auto',
      { cause: cudaError },
    );
  }
  const provider = cudaError === undefined ? 'cuda' : 'cpu';
  const reason = cudaError === undefined ? '' : `; CUDA unavailable: ${firstLine(cudaError)}`;
  process.stderr.write(`face3d: ONNX Runtime uses the ${provider} execution provider (FACE3D_DEVICE=auto${reason})\n`);
  return provider;
}

/** Decided once per device setting per process; under `auto` that is also the one log line. */
const providers = new Map<Device, Promise<Provider>>();

function providerFor(device: Device): Promise<Provider> {
  let provider = providers.get(device);
  if (provider === undefined) {
    provider = chooseProvider(device);
    providers.set(device, provider);
  }
  return provider;
}

function toOrtTensor(tensor: TensorData): ort.Tensor {
  return new ort.Tensor('float32', tensor.data, [...tensor.dims]);
}

function fromOrtTensor(modelName: string, name: string, tensor: ort.Tensor): TensorData {
  if (tensor.type !== 'float32') {
    throw new Face3dError('INTERNAL', `model ${modelName} output ${name} is ${tensor.type}, expected float32`);
  }
  return { data: tensor.data as Float32Array, dims: [...tensor.dims] };
}

class SessionModel implements OnnxModel {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly name: string;

  constructor(
    readonly path: string,
    readonly provider: Provider,
    private readonly session: ort.InferenceSession,
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
    this.name = basename(path);
  }

  async run(feeds: Feeds): Promise<Outputs> {
    let results: ort.InferenceSession.ReturnType;
    try {
      const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, toOrtTensor(t)]));
      results = await this.session.run(ortFeeds);
    } catch (error) {
      throw new Face3dError('INTERNAL', `model ${this.name} failed to run: ${firstLine(error)}`, { cause: error });
    }
    return Object.fromEntries(
      Object.entries(results).map(([name, tensor]) => [name, fromOrtTensor(this.name, name, tensor)]),
    );
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * What the session reads: the file, or on the CPU its graph with `changes` made (cpu-graph.ts; the
 * NCHWc rewrites only at the `all` level, where the layout they are for is used). CUDA runs the file as it is.
 */
async function sessionSource(path: string, provider: Provider, level: GraphOptimization, changes: CpuGraphChanges): Promise<string | Uint8Array> {
  const rewrites = level === 'all' ? NCHWC_REWRITES.filter((rewrite) => changes[rewrite] === true) : [];
  if (provider !== 'cpu' || (!changes.itemDims && rewrites.length === 0)) return path;
  const cpu: CpuGraphChanges = { itemDims: changes.itemDims, ...Object.fromEntries(rewrites.map((rewrite) => [rewrite, true])) };
  return cpuGraph(await readFile(path), cpu);
}

async function openModel(path: string, options: RuntimeOptions, changes: CpuGraphChanges): Promise<SessionModel> {
  const name = basename(path);
  try {
    await access(path);
  } catch (error) {
    throw new Face3dError('MODEL_UNAVAILABLE', `model ${name} not found at ${path}: run npm run models:build`, {
      cause: error,
    });
  }
  const provider = await providerFor(options.device);
  try {
    const level = options.graphOptimization ?? 'all';
    const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: [provider], intraOpNumThreads: options.threads, graphOptimizationLevel: level };
    const source = await sessionSource(path, provider, level, changes);
    const session = typeof source === 'string' ? await ort.InferenceSession.create(source, sessionOptions) : await ort.InferenceSession.create(source, sessionOptions);
    return new SessionModel(path, provider, session);
  } catch (error) {
    throw new Face3dError('MODEL_UNAVAILABLE', `model ${name} could not be loaded: ${firstLine(error)}`, {
      cause: error,
    });
  }
}

const models = new Map<string, Promise<SessionModel>>();

/**
 * The session for a model file, created on first use and shared afterwards (concurrent first
 * calls share one creation). A failed load is forgotten, so a later call can succeed once the
 * file is built. Throws MODEL_UNAVAILABLE for a missing or unloadable file or an unusable device.
 */
export function loadModel(path: string, options: RuntimeOptions, changes: CpuGraphChanges = {}): Promise<OnnxModel> {
  const absolute = resolve(path);
  const key = `${options.device}|${options.threads}|${options.graphOptimization ?? 'all'}|${changes.itemDims?.join('x') ?? ''}|${NCHWC_REWRITES.map((rewrite) => changes[rewrite] === true).join('|')}|${absolute}`;
  let model = models.get(key);
  if (model === undefined) {
    model = openModel(absolute, options, changes);
    models.set(key, model);
    const loading = model;
    loading.catch(() => {
      if (models.get(key) === loading) models.delete(key);
    });
  }
  return model;
}

/** Releases every session; later loadModel calls create fresh ones. */
export async function closeAllModels(): Promise<void> {
  const loading = [...models.values()];
  models.clear();
  const settled = await Promise.allSettled(loading);
  await Promise.all(settled.map((result) => (result.status === 'fulfilled' ? result.value.release() : undefined)));
}
