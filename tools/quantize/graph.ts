/**
 * What the int8 rewrites need to read and write in an ONNX graph: float initializers as arrays,
 * quantised initializers, and who produces and consumes each value.
 */
import onnxPkg from 'onnx-proto';

const { onnx } = onnxPkg;

export type ModelProto = InstanceType<typeof onnx.ModelProto>;
export type GraphProto = onnxPkg.onnx.IGraphProto;
export type NodeProto = onnxPkg.onnx.INodeProto;
export type TensorProto = onnxPkg.onnx.ITensorProto;

const DataType = onnx.TensorProto.DataType;

export function dims(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map(Number);
}

/** A float32 initializer's values (raw little-endian bytes or the float_data field). */
export function floatValues(tensor: TensorProto): Float32Array {
  if (tensor.dataType !== DataType.FLOAT) throw new Error(`initializer ${tensor.name} is not float32 (data type ${tensor.dataType})`);
  // A copy: protobufjs hands out views into a shared buffer (Buffer's slice() is one too), often unaligned.
  if (tensor.rawData && tensor.rawData.length > 0) return new Float32Array(new Uint8Array(tensor.rawData).buffer);
  return Float32Array.from(tensor.floatData ?? []);
}

export function setFloatValues(tensor: TensorProto, values: Float32Array): void {
  tensor.rawData = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  tensor.floatData = [];
}

type QuantizedArray = Float32Array | Uint8Array | Int8Array | Int32Array;

const TYPE_OF: ReadonlyArray<[new (n: number) => QuantizedArray, number]> = [
  [Float32Array, DataType.FLOAT],
  [Uint8Array, DataType.UINT8],
  [Int8Array, DataType.INT8],
  [Int32Array, DataType.INT32],
];

export function initializer(name: string, tensorDims: readonly number[], values: QuantizedArray): TensorProto {
  const dataType = TYPE_OF.find(([type]) => values instanceof type)?.[1];
  // raw_data is little-endian by spec, the byte order of every platform Node runs on.
  const rawData = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  return { name, dims: [...tensorDims], dataType, rawData };
}

/** Producers, consumers and initializers of a graph, by value name. */
export class GraphIndex {
  readonly initializers: Map<string, TensorProto>;
  readonly producers = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly outputs: Set<string>;

  constructor(readonly graph: GraphProto) {
    this.initializers = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
    this.outputs = new Set((graph.output ?? []).map((o) => o.name!));
    for (const node of graph.node ?? []) {
      for (const output of node.output ?? []) this.producers.set(output, node);
      for (const input of node.input ?? []) {
        if (input === '') continue;
        const list = this.consumers.get(input) ?? [];
        list.push(node);
        this.consumers.set(input, list);
      }
    }
  }

  consumersOf(value: string): NodeProto[] {
    return this.consumers.get(value) ?? [];
  }

  /** The float32 initializer named `value`, if there is one. */
  floatInitializer(value: string): TensorProto | undefined {
    const tensor = this.initializers.get(value);
    return tensor?.dataType === DataType.FLOAT ? tensor : undefined;
  }

  isConstant(value: string): boolean {
    return this.initializers.has(value);
  }
}
