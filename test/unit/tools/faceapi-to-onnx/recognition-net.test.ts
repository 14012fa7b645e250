import { beforeAll, describe, expect, it } from '@jest/globals';
import onnxPkg from 'onnx-proto';
import { buildRecognitionModel, foldScaleIntoConv } from '../../../../tools/faceapi-to-onnx/recognition-net.js';
import { loadFaceapiWeights, type FaceapiWeights } from '../../../../tools/faceapi-to-onnx/source.js';
import type { ConstTensor } from '../../../../tools/tfjs-to-onnx/weights.js';

const { onnx } = onnxPkg;

function dims(info: onnxPkg.onnx.IValueInfoProto): (number | string)[] {
  return info.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
}

describe('foldScaleIntoConv', () => {
  it('moves HWIO filters to OIHW and folds the scale layer into weights and bias', () => {
    // HWIO [1, 2, 2, 2] holding 100 w + 10 i + o, so every value shows where it came from.
    const shape = [1, 2, 2, 2];
    const data = new Float32Array(8);
    for (let w = 0; w < 2; w++) for (let i = 0; i < 2; i++) for (let o = 0; o < 2; o++) data[(w * 2 + i) * 2 + o] = 100 * w + 10 * i + o;
    const filters: ConstTensor = { dtype: 'float32', shape, data };
    const folded = foldScaleIntoConv(filters, [1, 2], [2, 3], [0.5, -1]);
    expect(folded.dims).toEqual([2, 2, 1, 2]);
    // OIHW order: o, i, (h = 0), w; each output channel times its scale.
    expect(Array.from(folded.weights)).toEqual([0, 200, 20, 220, 3, 303, 33, 333]);
    expect(Array.from(folded.bias)).toEqual([1 * 2 + 0.5, 2 * 3 - 1]);
  });
});

describe('buildRecognitionModel', () => {
  let source: FaceapiWeights;

  beforeAll(async () => {
    source = await loadFaceapiWeights('face_recognition_model');
  });

  const withWeights = (edit: (weights: Map<string, ConstTensor>) => void): Map<string, ConstTensor> => {
    const weights = new Map(source.tensors);
    edit(weights);
    return weights;
  };

  it('rebuilds the 29-conv ResNet: NHWC pixels in, a 128-D embedding out, dynamic batch', () => {
    const { onnx: bytes, inputs, outputs } = buildRecognitionModel(source.tensors);
    const graph = onnx.ModelProto.decode(bytes).graph!;
    const ops = graph.node!.map((node) => node.opType);
    const count = (op: string): number => ops.filter((o) => o === op).length;
    expect(count('Conv')).toBe(29);
    // Three channel-widening shortcuts and two odd-size spatial fixes (3 -> 4 and 1 -> 2).
    expect(count('Pad')).toBe(5);
    expect(count('MaxPool')).toBe(1);
    expect(count('AveragePool')).toBe(4);
    expect(graph.input!.map(dims)).toEqual([['batch', 150, 150, 3]]);
    expect(graph.output!.map(dims)).toEqual([['batch', 128]]);
    expect(inputs).toEqual([{ name: 'input', shape: ['batch', 150, 150, 3] }]);
    expect(outputs).toEqual([{ name: 'embedding', shape: ['batch', 128] }]);
  });

  it('names a missing weight', () => {
    const weights = withWeights((w) => w.delete('conv64_1/conv2/scale/biases'));
    expect(() => buildRecognitionModel(weights)).toThrow('weight "conv64_1/conv2/scale/biases" is missing');
  });

  it('refuses weights that do not fit the architecture', () => {
    const narrowFc = withWeights((w) => w.set('fc', { dtype: 'float32', shape: [256, 64], data: new Float32Array(256 * 64) }));
    expect(() => buildRecognitionModel(narrowFc)).toThrow('weight "fc": shape [256,64] does not fit 256 -> 128');
    const extra = withWeights((w) => w.set('conv512_1/conv1/conv/filters', source.tensors.get('fc')!));
    expect(() => buildRecognitionModel(extra)).toThrow('weights not used by FaceRecognitionNet: conv512_1/conv1/conv/filters');
  });
});
