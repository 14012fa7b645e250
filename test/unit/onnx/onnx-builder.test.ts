import { describe, expect, it } from '@jest/globals';
import onnxPkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder, attr, floatTensor, int64Tensor, serializeModel } from '../../../src/onnx/onnx-builder.js';

const METADATA = { opset: 17, producerName: 'test', producerVersion: '0', properties: { origin: 'unit test' } };

/** y = reshape(x + bias, [0, -1]) * 2 over x [batch, 2, 2]. */
function buildModel(): Uint8Array {
  const builder = new OnnxGraphBuilder();
  builder.reserveNames(['y']);
  builder.addInput('x', 'float32', ['batch', 2, 2]);
  const bias = builder.addInitializer('bias', floatTensor([2], [10, 20]));
  const two = builder.addInitializer('two', floatTensor([], [2]));
  const sum = builder.addNode('Add', ['x', bias], 'sum');
  const flat = builder.addNode('Reshape', [sum, builder.addInitializer('shape', int64Tensor([2], [0, -1]))], 'flat');
  builder.addNamedNode('Mul', [flat, two], 'y');
  builder.addOutput('y', 'float32', ['batch', 4]);
  return serializeModel(builder.toGraph('tiny'), METADATA);
}

describe('OnnxGraphBuilder + serializeModel', () => {
  it('writes a model onnxruntime runs, symbolic batch included', async () => {
    const session = await ort.InferenceSession.create(buildModel());
    expect(session.inputMetadata[0]).toMatchObject({ name: 'x', isTensor: true, shape: ['batch', 2, 2] });
    const x = new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), [2, 2, 2]);
    const { y } = await session.run({ x });
    expect(y.dims).toEqual([2, 4]);
    expect(Array.from(y.data as Float32Array)).toEqual([22, 44, 26, 48, 30, 52, 34, 56]);
  });

  it('records opset, IR version and metadata', () => {
    const model = onnxPkg.onnx.ModelProto.decode(buildModel());
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(Number(model.irVersion)).toBe(8);
    expect(model.metadataProps).toEqual([expect.objectContaining({ key: 'origin', value: 'unit test' })]);
  });

  it('hands out unique names and keeps reserved ones for named nodes', () => {
    const builder = new OnnxGraphBuilder();
    builder.reserveNames(['out']);
    expect(builder.uniqueName('a')).toBe('a');
    expect(builder.uniqueName('a')).toBe('a_1');
    expect(builder.addNode('Relu', ['a'], 'out')).toBe('out_1');
    expect(builder.addNamedNode('Relu', ['a'], 'out')).toBe('out');
    expect(() => builder.addNamedNode('Relu', ['a'], 'out')).toThrow(/not reserved or is already used/);
    expect(() => builder.reserveNames(['a'])).toThrow(/already taken/);
  });

  it('encodes attributes with their ONNX types', () => {
    const builder = new OnnxGraphBuilder();
    builder.addNode('Op', [], 'n', { i: attr.int(3), is: attr.ints([1, 2]), f: attr.float(0.5), fs: attr.floats([1.5]), s: attr.string('SAME_UPPER') });
    const [node] = builder.toGraph('g').node!;
    const byName = Object.fromEntries(node.attribute!.map((a) => [a.name, a]));
    expect(byName.i).toMatchObject({ type: onnxPkg.onnx.AttributeProto.AttributeType.INT, i: 3 });
    expect(byName.is).toMatchObject({ type: onnxPkg.onnx.AttributeProto.AttributeType.INTS, ints: [1, 2] });
    expect(byName.f).toMatchObject({ type: onnxPkg.onnx.AttributeProto.AttributeType.FLOAT, f: 0.5 });
    expect(byName.fs).toMatchObject({ type: onnxPkg.onnx.AttributeProto.AttributeType.FLOATS, floats: [1.5] });
    expect(new TextDecoder().decode(byName.s.s!)).toBe('SAME_UPPER');
  });
});
