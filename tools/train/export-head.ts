/** The regression head as ONNX: [LpNormalization +] Gemm (+ Relu + Gemm), input `features` [batch, d], output `coefficients`. */
import { floatTensor, OnnxGraphBuilder, OPSET, serializeModel, attr } from '../../src/onnx/onnx-builder.js';
import { headInputDim, headOutputDim, type RegressionHead } from '../../src/training/head.js';

export const HEAD_INPUT = 'features';
export const HEAD_OUTPUT = 'coefficients';

export function headToOnnx(head: RegressionHead, description: string): Uint8Array {
  const graph = new OnnxGraphBuilder();
  graph.reserveNames([HEAD_OUTPUT]);
  let value = graph.addInput(HEAD_INPUT, 'float32', ['batch', headInputDim(head)]);
  if (head.unitInput) value = graph.addNode('LpNormalization', [value], 'unit_features', { axis: attr.int(1), p: attr.int(2) });
  head.layers.forEach((layer, index) => {
    const last = index === head.layers.length - 1;
    const weights = graph.addInitializer(`dense${index}_weights`, floatTensor([layer.weights.rows, layer.weights.cols], layer.weights.data));
    const bias = graph.addInitializer(`dense${index}_bias`, floatTensor([layer.bias.length], layer.bias));
    value = last
      ? graph.addNamedNode('Gemm', [value, weights, bias], HEAD_OUTPUT, { alpha: attr.float(1), beta: attr.float(1) })
      : graph.addNode('Relu', [graph.addNode('Gemm', [value, weights, bias], `dense${index}`)], `relu${index}`);
  });
  graph.addOutput(HEAD_OUTPUT, 'float32', ['batch', headOutputDim(head)]);
  return serializeModel(graph.toGraph('face3d_regressor_head'), { opset: OPSET, producerName: 'face3d', producerVersion: '1', docString: description });
}
