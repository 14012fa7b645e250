/** Float32 vectors as the little-endian bytes stored in BLOB columns. */
import { endianness } from 'node:os';

/** On a little-endian host (nearly every one) a Float32Array's memory is the stored bytes: one copy, no per-value work. */
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export function float32ToBytes(values: Float32Array): Uint8Array<ArrayBuffer> {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return bytes;
}

/** The column's bytes may sit at any offset of any buffer (a Float32Array needs 4-byte alignment): copied first. */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`${bytes.byteLength} bytes is not a whole number of float32 values`);
  if (LITTLE_ENDIAN_HOST) return new Float32Array(new Uint8Array(bytes).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
