/**
 * TF.js graph model -> ONNX (opset 17). The ONNX model keeps TF's NHWC interface for inputs and
 * outputs, converts only the nodes the requested outputs need, and makes the batch dim symbolic.
 */
import { ConversionContext, type TfValue } from './context.js';
import { attrShape, dataInputs, parseInputRef, type GraphModelSource, type TfNode } from './graph-model.js';
import { identityPerm } from './layout.js';
import { OnnxGraphBuilder, serializeModel, type OnnxDim } from '../../src/onnx/onnx-builder.js';
import { OP_CONVERTERS } from './ops/index.js';
import { BATCH, type Shape } from './tensor-shape.js';
import { decodeWeights } from './weights.js';

/** Bump when the generated graphs change for the same source (invalidates built models). */
export const CONVERTER_VERSION = '1.0.0';
import { OPSET } from '../../src/onnx/onnx-builder.js';
export { OPSET };

/** A TF node whose (first) output becomes a graph output called `name`. */
export interface OutputSpec {
  readonly node: string;
  readonly name: string;
}

export interface ConvertOptions {
  /** Defaults to every node nothing else consumes, named after the node. */
  readonly outputs?: readonly OutputSpec[];
  /** Turn a leading input dim of 1 into the symbolic "batch" (default true); -1 always is. */
  readonly dynamicBatch?: boolean;
  /**
   * Leave a 4-D (NHWC) input's height and width open, so a fully convolutional network runs at any
   * input size (a detector at a smaller input: fewer pixels, same weights). Default false.
   */
  readonly openSpatialSize?: boolean;
  readonly graphName?: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface TensorSignature {
  readonly name: string;
  /** NHWC / TF order; "batch" for the symbolic batch dim, null where unknown. */
  readonly shape: readonly OnnxDim[];
}

export interface ConvertedModel {
  readonly onnx: Uint8Array;
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
}

function terminalOutputs(nodes: readonly TfNode[]): OutputSpec[] {
  const consumed = new Set(nodes.flatMap((node) => (node.input ?? []).map((ref) => parseInputRef(ref).node)));
  return nodes.filter((node) => !consumed.has(node.name) && node.op !== 'Const').map((node) => ({ node: node.name, name: node.name }));
}

/** Nodes the outputs depend on, producers before consumers. */
function requiredNodes(byName: ReadonlyMap<string, TfNode>, outputs: readonly string[]): TfNode[] {
  const order: TfNode[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: { name: string; expanded: boolean }[] = outputs.map((name) => ({ name, expanded: false })).reverse();
  while (stack.length > 0) {
    const item = stack.pop()!;
    const node = byName.get(item.name);
    if (!node) throw new Error(`node "${item.name}" does not exist in the graph`);
    if (item.expanded) {
      state.set(item.name, 'done');
      order.push(node);
      continue;
    }
    if (state.has(item.name)) {
      if (state.get(item.name) === 'open') throw new Error(`graph has a cycle through "${item.name}"`);
      continue;
    }
    state.set(item.name, 'open');
    stack.push({ name: item.name, expanded: true });
    for (const ref of dataInputs(node).reverse()) {
      const input = parseInputRef(ref).node;
      if (state.get(input) !== 'done') stack.push({ name: input, expanded: false });
    }
  }
  return order;
}

function convertPlaceholder(node: TfNode, ctx: ConversionContext, dynamicBatch: boolean, openSpatialSize: boolean): TensorSignature {
  const dims = attrShape(node, 'shape');
  if (!dims || dims.length === 0) throw new Error(`input "${node.name}" needs a known rank`);
  const open = (i: number): boolean => openSpatialSize && dims.length === 4 && (i === 1 || i === 2);
  // A leading -1, or the 1 of a model exported at batch size 1, is the batch.
  const shape: Shape = dims.map((d, i) => (i === 0 && (d === -1 || (dynamicBatch && d === 1)) ? BATCH : d === -1 || open(i) ? null : d));
  const onnxName = ctx.builder.addInput(node.name, 'float32', [...shape]);
  ctx.define(node.name, { onnxName, shape, perm: identityPerm(shape.length) });
  return { name: onnxName, shape: [...shape] };
}

function emitOutput(ctx: ConversionContext, spec: OutputSpec, value: TfValue): TensorSignature {
  const plain = ctx.inLayout(value, identityPerm(value.shape.length));
  ctx.builder.addNamedNode('Identity', [plain], spec.name);
  const shape = [...value.shape];
  ctx.builder.addOutput(spec.name, 'float32', shape);
  return { name: spec.name, shape };
}

export function convertGraphModel(source: GraphModelSource, options: ConvertOptions = {}): ConvertedModel {
  const nodes = source.json.modelTopology.node;
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const outputs = options.outputs ?? terminalOutputs(nodes);
  const order = requiredNodes(byName, outputs.map((o) => o.node));
  const unsupported = [...new Set(order.map((n) => n.op))].filter((op) => op !== 'Placeholder' && op !== 'Const' && !OP_CONVERTERS[op]);
  if (unsupported.length > 0) throw new Error(`unsupported TF ops: ${unsupported.join(', ')}`);

  const builder = new OnnxGraphBuilder();
  builder.reserveNames(outputs.map((o) => o.name));
  const ctx = new ConversionContext(builder, decodeWeights(source.json.weightsManifest, source.weightData));
  const inputs: TensorSignature[] = [];
  for (const node of order) {
    if (node.op === 'Placeholder') inputs.push(convertPlaceholder(node, ctx, options.dynamicBatch ?? true, options.openSpatialSize ?? false));
    else if (node.op !== 'Const') wrapErrors(node, () => OP_CONVERTERS[node.op](node, ctx));
  }
  const signatures = outputs.map((spec) => emitOutput(ctx, spec, ctx.value(spec.node)));
  const onnx = serializeModel(builder.toGraph(options.graphName ?? 'tfjs_graph_model'), {
    opset: OPSET,
    producerName: 'face3d tfjs-to-onnx',
    producerVersion: CONVERTER_VERSION,
    docString: options.docString,
    properties: options.metadata,
  });
  return { onnx, inputs, outputs: signatures };
}

function wrapErrors(node: TfNode, convert: () => void): void {
  try {
    convert();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`converting ${node.op} "${node.name}": ${message}`, { cause: error });
  }
}
