/** Reads a graph model's weight files: plain float32/int32 and TF.js's float16 / uint8 / uint16 quantisation. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from './fingerprint.js';
import type { GraphModelSource, WeightGroup, WeightSpec } from './graph-model.js';

export interface ConstTensor {
  readonly dtype: 'float32' | 'int32';
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** IEEE 754 half -> single precision, subnormals and infinities included. */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1 };

function storedBytesPerElement(spec: WeightSpec): number {
  const stored = spec.quantization?.dtype ?? spec.dtype;
  const bytes = STORED_BYTES[stored];
  if (bytes === undefined) throw new Error(`weight "${spec.name}": unsupported dtype ${stored}`);
  return bytes;
}

function decodeQuantised(spec: WeightSpec, bytes: Uint8Array, count: number): Float64Array {
  const { quantization } = spec;
  const values = new Float64Array(count);
  if (quantization?.dtype === 'float16') {
    const half = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    for (let i = 0; i < count; i++) values[i] = float16ToFloat32(half[i]);
    return values;
  }
  if (quantization?.scale === undefined || quantization.min === undefined) {
    throw new Error(`weight "${spec.name}": ${quantization?.dtype} quantisation without scale/min`);
  }
  const stored = quantization.dtype === 'uint8' ? bytes : new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  for (let i = 0; i < count; i++) values[i] = stored[i] * quantization.scale + quantization.min;
  return values;
}

function decodeWeight(spec: WeightSpec, bytes: Uint8Array): ConstTensor {
  const count = elementCount(spec.shape);
  const shape = [...spec.shape];
  if (spec.dtype !== 'float32' && spec.dtype !== 'int32') {
    throw new Error(`weight "${spec.name}": unsupported dtype ${spec.dtype}`);
  }
  if (!spec.quantization) {
    const data = spec.dtype === 'float32' ? new Float32Array(bytes.buffer, bytes.byteOffset, count) : new Int32Array(bytes.buffer, bytes.byteOffset, count);
    return { dtype: spec.dtype, shape, data };
  }
  if (spec.dtype === 'int32' && spec.quantization.dtype === 'float16') {
    throw new Error(`weight "${spec.name}": float16 quantisation of int32 is not defined by TF.js`);
  }
  const values = decodeQuantised(spec, bytes, count);
  // TF.js rounds dequantised integers, so the same rule keeps int32 constants identical.
  return spec.dtype === 'float32' ? { dtype: 'float32', shape, data: Float32Array.from(values) } : { dtype: 'int32', shape, data: Int32Array.from(values, Math.round) };
}

/** Splits the concatenated weight bytes into named constants, in manifest order. */
export function decodeWeights(groups: readonly WeightGroup[], weightData: Uint8Array): Map<string, ConstTensor> {
  const tensors = new Map<string, ConstTensor>();
  let offset = 0;
  for (const spec of groups.flatMap((group) => group.weights)) {
    const byteLength = elementCount(spec.shape) * storedBytesPerElement(spec);
    if (offset + byteLength > weightData.byteLength) {
      throw new Error(`weight "${spec.name}" ends at byte ${offset + byteLength}, past the ${weightData.byteLength} bytes of weight data`);
    }
    // A copy aligns the view for typed arrays (float16 weights leave odd offsets behind).
    tensors.set(spec.name, decodeWeight(spec, weightData.slice(offset, offset + byteLength)));
    offset += byteLength;
  }
  return tensors;
}

export interface GraphModelFiles extends GraphModelSource {
  /** model.json then the weight files, absolute. */
  readonly files: readonly string[];
  /** SHA-256 over the bytes of `files`, in order. */
  readonly sha256: string;
}

/** Reads model.json and every weight file it lists (paths relative to the json). */
export async function loadGraphModelFiles(jsonPath: string): Promise<GraphModelFiles> {
  const jsonBytes = await readFile(jsonPath);
  const json = JSON.parse(jsonBytes.toString('utf8')) as GraphModelSource['json'];
  const weightFiles = json.weightsManifest.flatMap((group) => group.paths).map((file) => path.join(path.dirname(jsonPath), file));
  const weightData = new Uint8Array(Buffer.concat(await Promise.all(weightFiles.map((file) => readFile(file)))));
  return { json, weightData, files: [jsonPath, ...weightFiles], sha256: sha256([jsonBytes, weightData]) };
}
