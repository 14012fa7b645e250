/**
 * Format-neutral helpers to assemble an ONNX graph and serialise it, shared by every converter
 * (TF.js graph models today, Caffe / face-api rebuilds later). Knows ONNX, nothing about sources.
 */
import onnxPkg from 'onnx-proto';

const { onnx } = onnxPkg;

/** The ONNX opset every face3d converter writes (onnxruntime-node 1.30 runs it). */
export const OPSET = 17;

/** The symbolic name of the dynamic batch dimension. */
export const BATCH = 'batch';

export type AttributeProto = onnxPkg.onnx.IAttributeProto;
export type GraphProto = onnxPkg.onnx.IGraphProto;

/** A dimension of a graph input/output: a size, a symbolic name (e.g. "batch"), or unknown. */
export type OnnxDim = number | string | null;

export type OnnxTensorData =
  | { readonly type: 'float32'; readonly dims: readonly number[]; readonly data: Float32Array }
  | { readonly type: 'int64'; readonly dims: readonly number[]; readonly data: BigInt64Array };

export type ElementType = OnnxTensorData['type'];

const DATA_TYPE: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
};

export function floatTensor(dims: readonly number[], data: Float32Array | readonly number[]): OnnxTensorData {
  return { type: 'float32', dims, data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

export function int64Tensor(dims: readonly number[], values: readonly number[]): OnnxTensorData {
  return { type: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) };
}

export const attr = {
  int: (i: number): AttributeProto => ({ type: onnx.AttributeProto.AttributeType.INT, i }),
  ints: (ints: readonly number[]): AttributeProto => ({ type: onnx.AttributeProto.AttributeType.INTS, ints: [...ints] }),
  float: (f: number): AttributeProto => ({ type: onnx.AttributeProto.AttributeType.FLOAT, f }),
  floats: (floats: readonly number[]): AttributeProto => ({
    type: onnx.AttributeProto.AttributeType.FLOATS,
    floats: [...floats],
  }),
  string: (s: string): AttributeProto => ({
    type: onnx.AttributeProto.AttributeType.STRING,
    s: new TextEncoder().encode(s),
  }),
};

function tensorProto(name: string, tensor: OnnxTensorData): onnxPkg.onnx.ITensorProto {
  // raw_data is little-endian by spec, which is the byte order of every platform Node runs on.
  const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  return { name, dims: [...tensor.dims], dataType: DATA_TYPE[tensor.type], rawData: bytes.slice() };
}

function valueInfo(name: string, type: ElementType, dims: readonly OnnxDim[]): onnxPkg.onnx.IValueInfoProto {
  const dim = dims.map((d): onnxPkg.onnx.TensorShapeProto.IDimension => {
    if (typeof d === 'number') return { dimValue: d };
    return d === null ? {} : { dimParam: d };
  });
  return { name, type: { tensorType: { elemType: DATA_TYPE[type], shape: { dim } } } };
}

/** Accumulates nodes, initializers and graph I/O; hands out unique value names. */
export class OnnxGraphBuilder {
  private readonly nodes: onnxPkg.onnx.INodeProto[] = [];
  private readonly initializers: onnxPkg.onnx.ITensorProto[] = [];
  private readonly inputs: onnxPkg.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxPkg.onnx.IValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private readonly reserved = new Set<string>();

  /** `hint` itself when free, else `hint_1`, `hint_2`, ... */
  uniqueName(hint: string): string {
    let name = hint;
    for (let i = 1; this.usedNames.has(name); i++) name = `${hint}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  addInput(name: string, type: ElementType, dims: readonly OnnxDim[]): string {
    const unique = this.uniqueName(name);
    if (unique !== name) throw new Error(`graph input name "${name}" is already taken`);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares an existing value as a graph output. */
  addOutput(name: string, type: ElementType, dims: readonly OnnxDim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  addInitializer(nameHint: string, tensor: OnnxTensorData): string {
    const name = this.uniqueName(nameHint);
    this.initializers.push(tensorProto(name, tensor));
    return name;
  }

  /** Keeps `names` (graph output names) away from uniqueName, for addNamedNode to use later. */
  reserveNames(names: readonly string[]): void {
    for (const name of names) {
      if (this.usedNames.has(name)) throw new Error(`name "${name}" is already taken`);
      this.usedNames.add(name);
      this.reserved.add(name);
    }
  }

  /** Adds one node with a single output named after `outputHint`; returns that output's name. */
  addNode(opType: string, inputs: readonly string[], outputHint: string, attributes: Record<string, AttributeProto> = {}): string {
    return this.pushNode(opType, inputs, this.uniqueName(outputHint), attributes);
  }

  /** Like addNode, with an output name reserved beforehand by reserveNames. */
  addNamedNode(opType: string, inputs: readonly string[], output: string, attributes: Record<string, AttributeProto> = {}): string {
    if (!this.reserved.delete(output)) throw new Error(`output name "${output}" was not reserved or is already used`);
    return this.pushNode(opType, inputs, output, attributes);
  }

  private pushNode(opType: string, inputs: readonly string[], output: string, attributes: Record<string, AttributeProto>): string {
    const attribute = Object.entries(attributes).map(([name, value]) => ({ ...value, name }));
    this.nodes.push({ opType, name: output, input: [...inputs], output: [output], attribute });
    return output;
  }

  toGraph(name: string): GraphProto {
    return { name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs };
  }
}

export interface ModelMetadata {
  readonly opset: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString?: string;
  readonly properties?: Readonly<Record<string, string>>;
}

/** IR version 8 is the newest onnx-proto knows and the one opset 17 requires. */
const IR_VERSION = onnx.Version.IR_VERSION;

export function serializeModel(graph: GraphProto, metadata: ModelMetadata): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: metadata.opset }],
    producerName: metadata.producerName,
    producerVersion: metadata.producerVersion,
    docString: metadata.docString ?? '',
    graph,
    metadataProps: Object.entries(metadata.properties ?? {}).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}
