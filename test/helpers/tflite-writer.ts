/**
 * Tiny TensorFlow Lite models written with the flatbuffers Builder (the tables and field slots of
 * tensorflow/lite/schema/schema.fbs), so the tflite → ONNX converter is tested on graphs whose
 * answer the test computes itself.
 */
import { Builder } from 'flatbuffers';

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type?: 'float32' | 'int32';
  /** Constant values; omitted for computed tensors. */
  readonly data?: Float32Array | Int32Array;
}

export type OptionsSpec =
  | { readonly kind: 'conv' | 'depthwise'; readonly padding: 'SAME' | 'VALID'; readonly strides: readonly [number, number]; readonly activation?: number; readonly depthMultiplier?: number }
  /** AddOptions (11), MulOptions (21), SubOptions (28): just the fused activation. */
  | { readonly kind: 'activation'; readonly union: 11 | 21 | 28; readonly activation?: number };

export interface OperatorSpec {
  /** BuiltinOperator code. */
  readonly code: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options?: OptionsSpec;
}

export interface ModelSpec {
  readonly tensors: readonly TensorSpec[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly operators: readonly OperatorSpec[];
}

const TENSOR_TYPE = { float32: 0, int32: 2 } as const;

function intVector(b: Builder, values: readonly number[]): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

function tableVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

/** The options table and its BuiltinOptions union type. */
function options(b: Builder, spec: OptionsSpec): [number, number] {
  if (spec.kind === 'activation') {
    b.startObject(2);
    b.addFieldInt8(0, spec.activation ?? 0, 0);
    return [spec.union, b.endObject()];
  }
  const depthwise = spec.kind === 'depthwise';
  const shift = depthwise ? 1 : 0;
  b.startObject(7 + shift);
  b.addFieldInt8(0, spec.padding === 'SAME' ? 0 : 1, 0);
  b.addFieldInt32(1, spec.strides[1], 0);
  b.addFieldInt32(2, spec.strides[0], 0);
  if (depthwise) b.addFieldInt32(3, spec.depthMultiplier ?? 1, 0);
  b.addFieldInt8(3 + shift, spec.activation ?? 0, 0);
  return [depthwise ? 2 : 1, b.endObject()];
}

/** The model as a .tflite file (identifier TFL3, one subgraph, buffer 0 empty as converters write it). */
export function writeTfliteModel(spec: ModelSpec): Uint8Array {
  const b = new Builder(1024);
  const codes = [...new Set(spec.operators.map((op) => op.code))];
  const operatorCodes = codes.map((code) => {
    b.startObject(4);
    b.addFieldInt8(0, Math.min(code, 127), 0);
    b.addFieldInt32(3, code, 0);
    return b.endObject();
  });
  const buffers = [undefined, ...spec.tensors.map((t) => t.data)].map((data) => {
    const bytes = data ? b.createByteVector(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) : 0;
    b.startObject(3);
    if (bytes) b.addFieldOffset(0, bytes, 0);
    return b.endObject();
  });
  const tensors = spec.tensors.map((tensor, i) => {
    const name = b.createString(tensor.name);
    const shape = intVector(b, tensor.shape);
    b.startObject(8);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, TENSOR_TYPE[tensor.type ?? 'float32'], 0);
    b.addFieldInt32(2, tensor.data ? i + 1 : 0, 0);
    b.addFieldOffset(3, name, 0);
    return b.endObject();
  });
  const operators = spec.operators.map((op) => {
    const inputs = intVector(b, op.inputs);
    const outputs = intVector(b, op.outputs);
    const built = op.options ? options(b, op.options) : undefined;
    b.startObject(9);
    b.addFieldInt32(0, codes.indexOf(op.code), 0);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    if (built) {
      b.addFieldInt8(3, built[0], 0);
      b.addFieldOffset(4, built[1], 0);
    }
    return b.endObject();
  });
  const tensorVector = tableVector(b, tensors);
  const inputVector = intVector(b, spec.inputs);
  const outputVector = intVector(b, spec.outputs);
  const operatorVector = tableVector(b, operators);
  const graphName = b.createString('main');
  b.startObject(5);
  b.addFieldOffset(0, tensorVector, 0);
  b.addFieldOffset(1, inputVector, 0);
  b.addFieldOffset(2, outputVector, 0);
  b.addFieldOffset(3, operatorVector, 0);
  b.addFieldOffset(4, graphName, 0);
  const subgraph = b.endObject();
  const codeVector = tableVector(b, operatorCodes);
  const subgraphVector = tableVector(b, [subgraph]);
  const description = b.createString('face3d test model');
  const bufferVector = tableVector(b, buffers);
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, codeVector, 0);
  b.addFieldOffset(2, subgraphVector, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, bufferVector, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array();
}
