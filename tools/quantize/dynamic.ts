/**
 * Dynamic int8 quantisation, measured against the static QDQ form (tools/quantize/time-int8.ts
 * --dynamic) and not served: each Conv's input is quantised at run time from its own range
 * (DynamicQuantizeLinear), multiplied with per-channel int8 weights by ConvInteger, and scaled back
 * to float. No calibration, but every Conv pays a quantisation and a rescale in float.
 */
import onnxPkg from 'onnx-proto';
import { GraphIndex, dims, floatValues, initializer, type ModelProto, type NodeProto } from './graph.js';
import { foldConvAffine, quantiseWeights, type KeepFloat } from './qdq.js';

const { onnx } = onnxPkg;

const MIN_OPSET = 13;

/** `model` rewritten with ConvInteger for every Conv outside `keepFloat` whose weights are constant; in place. */
export function quantiseDynamic(model: ModelProto, keepFloat: KeepFloat = new Set()): ModelProto {
  for (const opset of model.opsetImport ?? []) if ((opset.domain ?? '') === '' && Number(opset.version) < MIN_OPSET) opset.version = MIN_OPSET;
  foldConvAffine(model);
  const graph = model.graph!;
  const index = new GraphIndex(graph);
  const nodes: NodeProto[] = [];
  for (const node of graph.node ?? []) {
    const weights = node.opType === 'Conv' ? index.floatInitializer(node.input![1]) : undefined;
    if (!weights || keepFloat.has(node.output![0])) {
      nodes.push(node);
      continue;
    }
    const [x, , b] = node.input!;
    const y = node.output![0];
    const shape = dims(weights);
    const { values, scales } = quantiseWeights(floatValues(weights), shape[0]);
    const channelShape = [1, shape[0], ...shape.slice(2).map(() => 1)];
    graph.initializer!.push(
      initializer(`${y}_weight_quantized`, shape, values),
      initializer(`${y}_weight_zero_point`, [], Int8Array.of(0)),
      initializer(`${y}_weight_scale`, channelShape, scales),
      initializer(`${y}_bias_float`, channelShape, b ? floatValues(index.initializers.get(b)!) : new Float32Array(shape[0])),
    );
    const named = (suffix: string): string => `${y}_${suffix}`;
    nodes.push(
      { opType: 'DynamicQuantizeLinear', name: named('quantize'), input: [x], output: [named('x'), named('x_scale'), named('x_zero_point')] },
      { ...node, opType: 'ConvInteger', name: named('conv_integer'), input: [named('x'), `${y}_weight_quantized`, named('x_zero_point'), `${y}_weight_zero_point`], output: [named('int32')] },
      { opType: 'Cast', name: named('cast'), input: [named('int32')], output: [named('sum')], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnx.TensorProto.DataType.FLOAT }] },
      { opType: 'Mul', name: named('input_scaled'), input: [named('sum'), named('x_scale')], output: [named('scaled')] },
      { opType: 'Mul', name: named('weight_scaled'), input: [named('scaled'), `${y}_weight_scale`], output: [named('unbiased')] },
      { opType: 'Add', name: named('bias'), input: [named('unbiased'), `${y}_bias_float`], output: [y] },
    );
  }
  graph.node = nodes;
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  graph.initializer = graph.initializer!.filter((t) => used.has(t.name!));
  graph.valueInfo = [];
  return model;
}
