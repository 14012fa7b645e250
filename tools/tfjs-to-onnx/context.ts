/** State shared by the op converters: TF name -> ONNX value, constants, cached transposes and initializers. */
import { parseInputRef } from './graph-model.js';
import { identityPerm, isIdentity, permute, transposeBetween, transposeData, type Perm } from './layout.js';
import { OnnxGraphBuilder, attr, floatTensor, int64Tensor, type AttributeProto } from '../../src/onnx/onnx-builder.js';
import type { Shape } from './tensor-shape.js';
import type { ConstTensor } from './weights.js';

/** A converted TF tensor: its ONNX value holds the TF tensor transposed by `perm`; `shape` is TF's. */
export interface TfValue {
  readonly onnxName: string;
  readonly shape: Shape;
  readonly perm: Perm;
}

export type Operand =
  | { readonly kind: 'const'; readonly name: string; readonly tensor: ConstTensor }
  | { readonly kind: 'value'; readonly value: TfValue };

export function operandShape(operand: Operand): Shape {
  return operand.kind === 'value' ? operand.value.shape : operand.tensor.shape;
}

export class ConversionContext {
  private readonly values = new Map<string, TfValue>();
  private readonly aliases = new Map<string, string>();
  private readonly layoutCache = new Map<string, string>();
  private readonly initializerCache = new Map<string, string>();

  constructor(
    readonly builder: OnnxGraphBuilder,
    private readonly constants: ReadonlyMap<string, ConstTensor>,
  ) {}

  define(tfName: string, value: TfValue): void {
    this.values.set(tfName, value);
  }

  /** Makes `tfName` another name for `ref` (Identity), whether `ref` is a value or a constant. */
  alias(tfName: string, ref: string): void {
    this.aliases.set(tfName, this.resolve(ref));
  }

  private resolve(ref: string): string {
    const { node, index } = parseInputRef(ref);
    if (index !== 0) throw new Error(`output ${index} of "${node}" is not supported (single-output ops only)`);
    return this.aliases.get(node) ?? node;
  }

  operand(ref: string): Operand {
    const name = this.resolve(ref);
    const value = this.values.get(name);
    if (value) return { kind: 'value', value };
    const tensor = this.constants.get(name);
    if (tensor) return { kind: 'const', name, tensor };
    throw new Error(`"${name}" is neither a converted value nor a constant with weight data`);
  }

  value(ref: string): TfValue {
    const operand = this.operand(ref);
    if (operand.kind !== 'value') throw new Error(`"${operand.name}" is a constant where a runtime tensor is expected`);
    return operand.value;
  }

  /** A compile-time constant (shapes, axes, paddings, weights). */
  constant(ref: string): ConstTensor {
    const operand = this.operand(ref);
    if (operand.kind !== 'const') throw new Error(`"${operand.value.onnxName}" must be a constant for this converter`);
    return operand.tensor;
  }

  emit(opType: string, inputs: readonly string[], nameHint: string, attributes?: Record<string, AttributeProto>): string {
    return this.builder.addNode(opType, inputs, nameHint, attributes);
  }

  /** The ONNX name of `value` laid out by `perm`, adding (once) the Transpose that gets it there. */
  inLayout(value: TfValue, perm: Perm): string {
    if (value.perm.join() === perm.join()) return value.onnxName;
    const key = `${value.onnxName}|${perm.join()}`;
    let name = this.layoutCache.get(key);
    if (!name) {
      const transpose = attr.ints(transposeBetween(value.perm, perm));
      name = this.emit('Transpose', [value.onnxName], `${value.onnxName}/${isIdentity(perm) ? 'tf' : 'onnx'}_layout`, { perm: transpose });
      this.layoutCache.set(key, name);
    }
    return name;
  }

  /** `operand` as an ONNX input of rank `rank` (TF broadcasting rank) in layout `perm`. */
  operandIn(operand: Operand, rank: number, perm: Perm): string {
    if (operand.kind === 'const') return this.constInitializer(operand.name, operand.tensor, rank, perm);
    const { value } = operand;
    if (value.shape.length === rank) return this.inLayout(value, perm);
    if (isIdentity(perm)) return this.inLayout(value, identityPerm(value.shape.length));
    throw new Error(`"${value.onnxName}" (rank ${value.shape.length}) cannot broadcast in a transposed rank-${rank} layout`);
  }

  /** `operand` in TF's own layout. */
  plain(operand: Operand): string {
    const rank = operandShape(operand).length;
    return this.operandIn(operand, rank, identityPerm(rank));
  }

  /**
   * A float constant as an initializer that broadcasts like TF's against a rank-`rank` tensor
   * laid out by `perm`: it is first given TF's leading 1s, then transposed the same way.
   */
  constInitializer(name: string, tensor: ConstTensor, rank: number, perm: Perm): string {
    if (tensor.dtype !== 'float32') throw new Error(`int32 constant "${name}" used as a runtime tensor is not supported`);
    const layoutFree = isIdentity(perm) || tensor.shape.every((d) => d === 1);
    const data = tensor.data as Float32Array;
    return this.cachedInitializer(`const:${name}|${layoutFree ? '' : perm.join()}`, () => {
      if (layoutFree) return this.builder.addInitializer(name, floatTensor(tensor.shape, data));
      const padded = [...new Array<number>(rank - tensor.shape.length).fill(1), ...tensor.shape];
      return this.builder.addInitializer(`${name}/onnx_layout`, floatTensor(permute(padded, perm), transposeData(data, padded, perm)));
    });
  }

  /** A 1-D int64 initializer (shapes, axes, pads), shared between nodes asking for the same values. */
  int64Initializer(nameHint: string, values: readonly number[]): string {
    return this.cachedInitializer(`i64:${values.join()}`, () => this.builder.addInitializer(nameHint, int64Tensor([values.length], values)));
  }

  floatScalar(value: number): string {
    return this.cachedInitializer(`f32:${value}`, () => this.builder.addInitializer(`scalar_${value}`, floatTensor([], [value])));
  }

  private cachedInitializer(key: string, create: () => string): string {
    let name = this.initializerCache.get(key);
    if (!name) {
      name = create();
      this.initializerCache.set(key, name);
    }
    return name;
  }
}
