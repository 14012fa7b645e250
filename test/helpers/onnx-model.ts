/** Tiny ONNX models written by hand with onnx-proto, so runtime tests need no converted model. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto, { type onnx as OnnxSchema } from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** A dimension is a fixed size or a symbolic name (a dynamic axis such as the batch). */
export type Dim = number | string;

function floatValueInfo(name: string, shape: readonly Dim[]): OnnxSchema.IValueInfoProto {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } };
}

function floatInitializer(name: string, dims: readonly number[], values: readonly number[]): OnnxSchema.ITensorProto {
  return { name, dims: [...dims], dataType: FLOAT, floatData: [...values] };
}

export interface DenseReluSpec {
  /** Input shape; its last axis is the dense layer's input width, e.g. ['N', 2, 2, 3] (NHWC). */
  readonly inputShape: readonly Dim[];
  /** Row-major [inputWidth][outputWidth]. */
  readonly weights: readonly (readonly number[])[];
  readonly bias: readonly number[];
}

/** y = relu(x · W + b) over the last axis; input `x`, output `y`. */
export function denseReluModel(spec: DenseReluSpec): Uint8Array {
  const inputWidth = spec.weights.length;
  const outputWidth = spec.bias.length;
  const outputShape = [...spec.inputShape.slice(0, -1), outputWidth];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'face3d-tests',
    graph: {
      name: 'dense_relu',
      node: [
        { opType: 'MatMul', input: ['x', 'W'], output: ['xw'] },
        { opType: 'Add', input: ['xw', 'b'], output: ['z'] },
        { opType: 'Relu', input: ['z'], output: ['y'] },
      ],
      initializer: [
        floatInitializer('W', [inputWidth, outputWidth], spec.weights.flat()),
        floatInitializer('b', [outputWidth], spec.bias),
      ],
      input: [floatValueInfo('x', spec.inputShape)],
      output: [floatValueInfo('y', outputShape)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A scratch directory for model files; `remove()` deletes it. */
export async function scratchDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'face3d-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export async function writeModel(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}
