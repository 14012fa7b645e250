/**
 * Reads a TensorFlow Lite model (the flatbuffer of tensorflow/lite/schema/schema.fbs) into plain
 * objects: its tensors with their constant data, and the first subgraph's operators with the
 * options of the operators tools/tflite-to-onnx converts. Only what a float model needs is read.
 */
import { ByteBuffer } from 'flatbuffers';

/** The schema's BuiltinOperator codes of the operators this reader knows by name. */
export const BUILTIN_OPERATORS = {
  ADD: 0,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  MUL: 18,
  RELU: 19,
  RELU6: 21,
  RESHAPE: 22,
  SUB: 41,
  PRELU: 54,
  ABS: 101,
} as const;

export type BuiltinOperator = keyof typeof BUILTIN_OPERATORS;

/** TensorType codes; tensors of other types are read without data. */
const TENSOR_TYPES: Readonly<Record<number, TensorType>> = { 0: 'float32', 2: 'int32' };
export type TensorType = 'float32' | 'int32' | 'other';

export type Padding = 'SAME' | 'VALID';
/** ActivationFunctionType: NONE 0, RELU 1, RELU_N1_TO_1 2, RELU6 3, TANH 4, SIGN_BIT 5. */
export type FusedActivation = 'NONE' | 'RELU' | 'RELU_N1_TO_1' | 'RELU6' | 'TANH' | 'SIGN_BIT';
const ACTIVATIONS: readonly FusedActivation[] = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

export interface TfliteTensor {
  readonly index: number;
  readonly name: string;
  /** As stored: activations NHWC, conv filters OHWI, depthwise filters 1HW(C·multiplier). */
  readonly shape: readonly number[];
  readonly type: TensorType;
  /** The constant's values (little-endian in the file), or undefined for a computed tensor. */
  readonly data?: Float32Array | Int32Array;
}

export interface WindowOptions {
  readonly padding: Padding;
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly activation: FusedActivation;
  /** DEPTHWISE_CONV_2D only. */
  readonly depthMultiplier?: number;
}

export type OperatorOptions =
  | { readonly kind: 'window'; readonly window: WindowOptions }
  | { readonly kind: 'activation'; readonly activation: FusedActivation }
  | { readonly kind: 'none' };

export interface TfliteOperator {
  /** The builtin's name, or `builtin <code>` / `custom <name>` for one this reader does not know. */
  readonly opcode: BuiltinOperator | string;
  /** Tensor indices; −1 marks an omitted optional input (e.g. a convolution without bias). */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options: OperatorOptions;
}

export interface TfliteModel {
  readonly version: number;
  readonly description: string;
  readonly tensors: readonly TfliteTensor[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly operators: readonly TfliteOperator[];
}

/** The few table accessors the schema needs, over flatbuffers' ByteBuffer. */
class Tables {
  constructor(private readonly bb: ByteBuffer) {}

  root(): number {
    return this.bb.readInt32(this.bb.position()) + this.bb.position();
  }

  private field(table: number, slot: number): number {
    return this.bb.__offset(table, 4 + 2 * slot);
  }

  private vector(table: number, slot: number, elementSize: number): number[] {
    const offset = this.field(table, slot);
    if (!offset) return [];
    const start = this.bb.__vector(table + offset);
    return Array.from({ length: this.bb.__vector_len(table + offset) }, (_, i) => start + elementSize * i);
  }

  tables(table: number, slot: number): number[] {
    return this.vector(table, slot, 4).map((position) => this.bb.__indirect(position));
  }

  ints(table: number, slot: number): number[] {
    return this.vector(table, slot, 4).map((position) => this.bb.readInt32(position));
  }

  bytes(table: number, slot: number): Uint8Array {
    const offset = this.field(table, slot);
    if (!offset) return new Uint8Array(0);
    const start = this.bb.__vector(table + offset);
    return this.bb.bytes().subarray(start, start + this.bb.__vector_len(table + offset));
  }

  string(table: number, slot: number): string {
    const offset = this.field(table, slot);
    return offset ? (this.bb.__string(table + offset) as string) : '';
  }

  int32(table: number, slot: number, fallback: number): number {
    const offset = this.field(table, slot);
    return offset ? this.bb.readInt32(table + offset) : fallback;
  }

  int8(table: number, slot: number, fallback: number): number {
    const offset = this.field(table, slot);
    return offset ? this.bb.readInt8(table + offset) : fallback;
  }

  uint8(table: number, slot: number, fallback: number): number {
    const offset = this.field(table, slot);
    return offset ? this.bb.readUint8(table + offset) : fallback;
  }

  uint64(table: number, slot: number): bigint {
    const offset = this.field(table, slot);
    return offset ? this.bb.readUint64(table + offset) : 0n;
  }

  /** A union's table, or undefined when absent. */
  union(table: number, slot: number): number | undefined {
    const offset = this.field(table, slot);
    return offset ? this.bb.__indirect(table + offset) : undefined;
  }
}

function operatorName(code: number, custom: string): string {
  if (custom) return `custom ${custom}`;
  const known = Object.entries(BUILTIN_OPERATORS).find(([, value]) => value === code);
  return known ? known[0] : `builtin ${code}`;
}

function activation(code: number): FusedActivation {
  const name = ACTIVATIONS[code];
  if (!name) throw new Error(`unknown fused activation ${code}`);
  return name;
}

/** Conv2DOptions / DepthwiseConv2DOptions (schema field order differs by one: depth_multiplier). */
function windowOptions(tables: Tables, table: number, depthwise: boolean): WindowOptions {
  const shift = depthwise ? 1 : 0;
  return {
    padding: tables.int8(table, 0, 0) === 0 ? 'SAME' : 'VALID',
    strides: [tables.int32(table, 2, 0), tables.int32(table, 1, 0)],
    dilations: [tables.int32(table, 5 + shift, 1), tables.int32(table, 4 + shift, 1)],
    activation: activation(tables.int8(table, 3 + shift, 0)),
    ...(depthwise ? { depthMultiplier: tables.int32(table, 3, 1) } : {}),
  };
}

function operatorOptions(tables: Tables, opcode: string, table: number | undefined): OperatorOptions {
  switch (opcode) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D':
      if (table === undefined) throw new Error(`${opcode} without options`);
      return { kind: 'window', window: windowOptions(tables, table, opcode === 'DEPTHWISE_CONV_2D') };
    case 'ADD':
    case 'SUB':
    case 'MUL':
      return { kind: 'activation', activation: table === undefined ? 'NONE' : activation(tables.int8(table, 0, 0)) };
    default:
      // RESHAPE's new_shape option duplicates its shape input, which this reader uses instead.
      return { kind: 'none' };
  }
}

function tensorData(type: TensorType, bytes: Uint8Array): Float32Array | Int32Array | undefined {
  if (bytes.length === 0 || type === 'other') return undefined;
  // Copied (a Node Buffer's slice would be a view): the flatbuffer does not promise 4-byte alignment.
  const aligned = new Uint8Array(bytes).buffer;
  return type === 'float32' ? new Float32Array(aligned) : new Int32Array(aligned);
}

/** Parses a .tflite file; throws on a file that is not one or that keeps its weights outside the flatbuffer. */
export function readTfliteModel(file: Uint8Array): TfliteModel {
  const bb = new ByteBuffer(file);
  if (file.length < 8 || bb.getBufferIdentifier() !== 'TFL3') throw new Error('not a TensorFlow Lite model (no TFL3 identifier)');
  const tables = new Tables(bb);
  const model = tables.root();
  const opcodes = tables.tables(model, 1).map((code) =>
    // builtin_code (slot 3) superseded the byte-sized deprecated_builtin_code (slot 0) at 127 operators.
    operatorName(Math.max(tables.int8(code, 0, 0), tables.int32(code, 3, 0)), tables.string(code, 1)),
  );
  const buffers = tables.tables(model, 4).map((buffer) => {
    if (tables.uint64(buffer, 1) !== 0n) throw new Error('weights stored outside the flatbuffer (Buffer.offset) are not supported');
    return tables.bytes(buffer, 0);
  });
  const [subgraph, ...others] = tables.tables(model, 2);
  if (subgraph === undefined) throw new Error('the model has no subgraph');
  if (others.length > 0) throw new Error(`${others.length + 1} subgraphs: only single-graph models are supported`);
  const tensors = tables.tables(subgraph, 0).map((tensor, index): TfliteTensor => {
    const type = TENSOR_TYPES[tables.uint8(tensor, 1, 0)] ?? 'other';
    const data = tensorData(type, buffers[tables.int32(tensor, 2, 0)] ?? new Uint8Array(0));
    return { index, name: tables.string(tensor, 3), shape: tables.ints(tensor, 0), type, ...(data ? { data } : {}) };
  });
  const operators = tables.tables(subgraph, 3).map((operator): TfliteOperator => {
    const opcode = opcodes[tables.int32(operator, 0, 0)];
    if (opcode === undefined) throw new Error('an operator refers to a missing operator code');
    return { opcode, inputs: tables.ints(operator, 1), outputs: tables.ints(operator, 2), options: operatorOptions(tables, opcode, tables.union(operator, 4)) };
  });
  return {
    version: tables.int32(model, 0, 0),
    description: tables.string(model, 3),
    tensors,
    inputs: tables.ints(subgraph, 1),
    outputs: tables.ints(subgraph, 2),
    operators,
  };
}
