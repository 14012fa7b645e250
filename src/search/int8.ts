/**
 * Symmetric 8-bit codes with one scale per vector: the largest magnitude maps to ±127, so every
 * vector uses the whole code range whatever its spread (a fixed scale would leave most of the 256
 * levels unused for 198-d unit vectors, whose values are mostly within ±0.2).
 */

/** Writes the codes of `vector` at `offset` and returns the scale that decodes them (value ≈ code × scale). */
export function encodeInt8(vector: Float32Array, codes: Int8Array, offset: number): number {
  let largest = 0;
  for (let i = 0; i < vector.length; i++) largest = Math.max(largest, Math.abs(vector[i]));
  const scale = largest / 127;
  for (let i = 0; i < vector.length; i++) codes[offset + i] = scale > 0 ? Math.round(vector[i] / scale) : 0;
  return scale;
}

/**
 * The distance between `unit` and the direction of its codes (codes / |codes|): what bounds the
 * error of a cosine computed on codes instead of values, since for unit x, q and code directions
 * x̂, q̂: |x·q − x̂·q̂| ≤ |x − x̂| + |q − q̂|.
 */
export function codeDirectionError(unit: Float32Array, codes: Int8Array, offset: number): number {
  let codeNorm = 0;
  for (let i = 0; i < unit.length; i++) codeNorm += codes[offset + i] * codes[offset + i];
  codeNorm = Math.sqrt(codeNorm);
  let squared = 0;
  for (let i = 0; i < unit.length; i++) {
    const difference = unit[i] - (codeNorm > 0 ? codes[offset + i] / codeNorm : 0);
    squared += difference * difference;
  }
  return Math.sqrt(squared);
}
