/**
 * The part of BVLC Caffe's caffe.proto that a deploy network and its weights need, with Caffe's
 * own field numbers and defaults, so the same schema reads .caffemodel / .binaryproto (binary)
 * and .prototxt (text). Fields outside the subset are skipped by the decoder, as protobuf does
 * for any unknown field.
 *
 * BlobProto.data and double_data are declared `bytes`: Caffe declares them `[packed = true]`, and
 * a packed repeated float is on the wire one length-delimited run of little-endian floats, so
 * reading it as bytes yields a Float32Array view instead of a JS array of 44M numbers.
 */
import protobuf from 'protobufjs';
import { parseTextFormat } from './text-format.js';

const CAFFE_PROTO = `
syntax = "proto2";
package caffe;

message BlobShape { repeated int64 dim = 1 [packed = true]; }

message BlobProto {
  optional BlobShape shape = 7;
  optional bytes data = 5;
  optional bytes double_data = 8;
  optional int32 num = 1 [default = 0];
  optional int32 channels = 2 [default = 0];
  optional int32 height = 3 [default = 0];
  optional int32 width = 4 [default = 0];
}

message NetParameter {
  optional string name = 1;
  repeated string input = 3;
  repeated BlobShape input_shape = 8;
  repeated int32 input_dim = 4;
  repeated LayerParameter layer = 100;
  repeated V1LayerParameter layers = 2;
}

message LayerParameter {
  optional string name = 1;
  optional string type = 2;
  repeated string bottom = 3;
  repeated string top = 4;
  repeated BlobProto blobs = 7;
  optional BatchNormParameter batch_norm_param = 139;
  optional ConvolutionParameter convolution_param = 106;
  optional EltwiseParameter eltwise_param = 110;
  optional FlattenParameter flatten_param = 135;
  optional InnerProductParameter inner_product_param = 117;
  optional InputParameter input_param = 143;
  optional PoolingParameter pooling_param = 121;
  optional ReLUParameter relu_param = 123;
  optional ScaleParameter scale_param = 142;
  optional SoftmaxParameter softmax_param = 125;
}

// Weights of models saved before 2015 (the "layers" field): only what finding blobs by name needs.
message V1LayerParameter {
  optional string name = 4;
  repeated BlobProto blobs = 6;
}

message ConvolutionParameter {
  optional uint32 num_output = 1;
  optional bool bias_term = 2 [default = true];
  repeated uint32 pad = 3;
  repeated uint32 kernel_size = 4;
  repeated uint32 stride = 6;
  repeated uint32 dilation = 18;
  optional uint32 pad_h = 9 [default = 0];
  optional uint32 pad_w = 10 [default = 0];
  optional uint32 kernel_h = 11;
  optional uint32 kernel_w = 12;
  optional uint32 stride_h = 13;
  optional uint32 stride_w = 14;
  optional uint32 group = 5 [default = 1];
  optional int32 axis = 16 [default = 1];
}

message PoolingParameter {
  enum PoolMethod { MAX = 0; AVE = 1; STOCHASTIC = 2; }
  enum RoundMode { CEIL = 0; FLOOR = 1; }
  optional PoolMethod pool = 1 [default = MAX];
  optional uint32 pad = 4 [default = 0];
  optional uint32 pad_h = 9 [default = 0];
  optional uint32 pad_w = 10 [default = 0];
  optional uint32 kernel_size = 2;
  optional uint32 kernel_h = 5;
  optional uint32 kernel_w = 6;
  optional uint32 stride = 3 [default = 1];
  optional uint32 stride_h = 7;
  optional uint32 stride_w = 8;
  optional bool global_pooling = 12 [default = false];
  optional RoundMode round_mode = 13 [default = CEIL];
}

message InnerProductParameter {
  optional uint32 num_output = 1;
  optional bool bias_term = 2 [default = true];
  optional int32 axis = 5 [default = 1];
  optional bool transpose = 6 [default = false];
}

message BatchNormParameter {
  optional bool use_global_stats = 1;
  optional float moving_average_fraction = 2 [default = 0.999];
  optional float eps = 3 [default = 1e-5];
}

message ScaleParameter {
  optional int32 axis = 1 [default = 1];
  optional int32 num_axes = 2 [default = 1];
  optional bool bias_term = 4 [default = false];
}

message EltwiseParameter {
  enum EltwiseOp { PROD = 0; SUM = 1; MAX = 2; }
  optional EltwiseOp operation = 1 [default = SUM];
  repeated float coeff = 2;
}

message ReLUParameter { optional float negative_slope = 1 [default = 0]; }
message FlattenParameter { optional int32 axis = 1 [default = 1]; optional int32 end_axis = 2 [default = -1]; }
message InputParameter { repeated BlobShape shape = 1; }
message SoftmaxParameter { optional int32 axis = 2 [default = 1]; }
`;

/** Plain objects as protobufjs's toObject gives them with Caffe's snake_case names and defaults filled in. */
export interface BlobShape {
  readonly dim: readonly number[];
}

export interface BlobProto {
  readonly shape: BlobShape | null;
  readonly data: Uint8Array;
  readonly double_data: Uint8Array;
  readonly num: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export interface ConvolutionParameter {
  readonly num_output: number;
  readonly bias_term: boolean;
  readonly pad: readonly number[];
  readonly kernel_size: readonly number[];
  readonly stride: readonly number[];
  readonly dilation: readonly number[];
  readonly pad_h: number;
  readonly pad_w: number;
  readonly kernel_h: number;
  readonly kernel_w: number;
  readonly stride_h: number;
  readonly stride_w: number;
  readonly group: number;
  readonly axis: number;
}

export interface PoolingParameter {
  readonly pool: 'MAX' | 'AVE' | 'STOCHASTIC';
  readonly pad: number;
  readonly pad_h: number;
  readonly pad_w: number;
  readonly kernel_size: number;
  readonly kernel_h: number;
  readonly kernel_w: number;
  readonly stride: number;
  readonly stride_h: number;
  readonly stride_w: number;
  readonly global_pooling: boolean;
  readonly round_mode: 'CEIL' | 'FLOOR';
}

export interface LayerParameter {
  readonly name: string;
  readonly type: string;
  readonly bottom: readonly string[];
  readonly top: readonly string[];
  readonly blobs: readonly BlobProto[];
  readonly batch_norm_param: { readonly eps: number } | null;
  readonly convolution_param: ConvolutionParameter | null;
  readonly eltwise_param: { readonly operation: 'PROD' | 'SUM' | 'MAX'; readonly coeff: readonly number[] } | null;
  readonly flatten_param: { readonly axis: number; readonly end_axis: number } | null;
  readonly inner_product_param: { readonly num_output: number; readonly bias_term: boolean; readonly axis: number; readonly transpose: boolean } | null;
  readonly input_param: { readonly shape: readonly BlobShape[] } | null;
  readonly pooling_param: PoolingParameter | null;
  readonly relu_param: { readonly negative_slope: number } | null;
  readonly scale_param: { readonly axis: number; readonly num_axes: number; readonly bias_term: boolean } | null;
  readonly softmax_param: { readonly axis: number } | null;
}

export interface NetParameter {
  readonly name: string;
  readonly input: readonly string[];
  readonly input_shape: readonly BlobShape[];
  readonly input_dim: readonly number[];
  readonly layer: readonly LayerParameter[];
  readonly layers: readonly { readonly name: string; readonly blobs: readonly BlobProto[] }[];
}

const root = protobuf.parse(CAFFE_PROTO, { keepCase: true }).root.resolveAll();
const NET_PARAMETER = root.lookupType('caffe.NetParameter');
const BLOB_PROTO = root.lookupType('caffe.BlobProto');

/** What every reader hands on: defaults filled in, enums by name, int64 as number. */
const TO_OBJECT: protobuf.IConversionOptions = { defaults: true, arrays: true, enums: String, longs: Number };

export function decodeNet(bytes: Uint8Array): NetParameter {
  return NET_PARAMETER.toObject(NET_PARAMETER.decode(bytes), TO_OBJECT) as NetParameter;
}

/** A .prototxt network definition. */
export function parseNetText(text: string): NetParameter {
  return NET_PARAMETER.toObject(NET_PARAMETER.fromObject(parseTextFormat(text, NET_PARAMETER)), TO_OBJECT) as NetParameter;
}

export function decodeBlob(bytes: Uint8Array): BlobProto {
  return BLOB_PROTO.toObject(BLOB_PROTO.decode(bytes), TO_OBJECT) as BlobProto;
}

/** Writes a net (typically weights) in Caffe's binary format; `net` uses the same field names. */
export function encodeNet(net: Record<string, unknown>): Uint8Array {
  return NET_PARAMETER.encode(NET_PARAMETER.fromObject(net)).finish();
}

export function encodeBlob(blob: Record<string, unknown>): Uint8Array {
  return BLOB_PROTO.encode(BLOB_PROTO.fromObject(blob)).finish();
}

/** A blob's values as float32 (a copy, so the result is aligned and owns its memory). */
export function blobValues(blob: BlobProto): Float32Array {
  if (blob.data.byteLength > 0) return new Float32Array(new Uint8Array(blob.data).buffer);
  if (blob.double_data.byteLength > 0) return Float32Array.from(new Float64Array(new Uint8Array(blob.double_data).buffer));
  return new Float32Array(0);
}

/** A blob's dims: its shape, or the legacy num/channels/height/width with leading 1s kept. */
export function blobDims(blob: BlobProto): number[] {
  if (blob.shape) return [...blob.shape.dim];
  return [blob.num, blob.channels, blob.height, blob.width];
}

/** Float32 values as the bytes of a packed `repeated float` field (for writers of weights). */
export function floatBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
