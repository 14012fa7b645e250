import { describe, expect, it } from '@jest/globals';
import protobuf from 'protobufjs';
import { blobValues, decodeNet, parseNetText } from '../../../../src/import/caffe/caffe-proto.js';

describe('Caffe text and binary formats', () => {
  it('reads prototxt syntax: comments, both brace styles, lists, enums, escapes, unknown fields', () => {
    const parsed = parseNetText(`
      name: 'a\\tb' # trailing comment
      input: "data" input_shape < dim: 1 dim: 3 dim: 4 dim: 4 >
      layer {
        name: "pool" type: "Pooling" bottom: "data" top: "pool";
        pooling_param: { pool: AVE kernel_h: 2 kernel_w: 3 stride: 2 round_mode: FLOOR }
        param { lr_mult: 1 decay_mult: 0 }   # not in face3d's subset: skipped
        include { phase: TEST }
      }
      layer { name: "sum" type: "Eltwise" bottom: ["pool", "pool"] top: "sum" eltwise_param { coeff: [0.5, -2e-1] } }
    `);
    expect(parsed.name).toBe('a\tb');
    expect(parsed.input_shape[0].dim).toEqual([1, 3, 4, 4]);
    const [pool, sum] = parsed.layer;
    expect(pool.pooling_param).toMatchObject({ pool: 'AVE', kernel_h: 2, kernel_w: 3, stride: 2, round_mode: 'FLOOR', global_pooling: false });
    expect(sum.bottom).toEqual(['pool', 'pool']);
    expect(sum.eltwise_param).toMatchObject({ operation: 'SUM', coeff: [0.5, -0.2] });
    // Caffe's defaults come with the schema.
    expect(parseNetText('layer { name: "c" type: "Convolution" convolution_param { num_output: 2 } }').layer[0].convolution_param).toMatchObject({ bias_term: true, group: 1 });
  });

  it('reports syntax errors with their line as BAD_USER_INPUT', () => {
    expect(() => parseNetText('name: "x"\nlayer {\n  name: "y" type: \n}')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', message: expect.stringContaining('line 4') }));
    expect(() => parseNetText('layer { name: "y" pooling_param { pool: MEDIAN } }')).toThrow(/MEDIAN/);
    expect(() => parseNetText('layer { name: "y"')).toThrow(/before the end/);
  });

  it('reads blob data written as Caffe writes it (packed repeated float), with legacy 4-D dims', () => {
    // Caffe's own declaration of the same fields: the wire format must be what face3d's bytes field reads.
    const caffeRoot = protobuf.parse(`syntax = "proto2"; package c;
      message BlobProto { repeated float data = 5 [packed = true]; optional int32 num = 1; optional int32 channels = 2; optional int32 height = 3; optional int32 width = 4; }
      message LayerParameter { optional string name = 1; repeated BlobProto blobs = 7; }
      message NetParameter { repeated LayerParameter layer = 100; }`).root;
    const Net = caffeRoot.lookupType('c.NetParameter');
    const bytes = Net.encode(Net.fromObject({ layer: [{ name: 'fc', blobs: [{ data: [1.5, -2, 3.25, 0], num: 1, channels: 1, height: 2, width: 2 }] }] })).finish();
    const decoded = decodeNet(bytes);
    expect(Array.from(blobValues(decoded.layer[0].blobs[0]))).toEqual([1.5, -2, 3.25, 0]);
    expect(decoded.layer[0].blobs[0]).toMatchObject({ num: 1, channels: 1, height: 2, width: 2, shape: null });
  });
});
