/**
 * Seeded pseudo-random numbers, so that training runs and pair sampling are reproducible:
 * the same seed gives the same shuffles, initial weights and samples on every machine.
 */

/** Uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: a 32-bit state generator; tiny and fast, and its quality is ample for shuffles,
 * weight initialisation and sampling (not for anything cryptographic).
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer uniform in [0, bound). */
export function randomInt(random: Random, bound: number): number {
  return Math.floor(random() * bound);
}

/** A standard normal sample (Box-Muller). */
export function randomNormal(random: Random): number {
  const u = 1 - random(); // in (0, 1], so the logarithm is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Fisher-Yates shuffle in place. */
export function shuffleInPlace<T>(values: { [index: number]: T; readonly length: number }, random: Random): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const swap = values[i];
    values[i] = values[j];
    values[j] = swap;
  }
}

/** 0, 1, ..., count - 1 in a seeded random order. */
export function shuffledIndices(count: number, random: Random): Int32Array {
  const indices = new Int32Array(count);
  for (let i = 0; i < count; i++) indices[i] = i;
  shuffleInPlace(indices, random);
  return indices;
}
