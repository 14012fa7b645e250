/**
 * Jest's node environment gives each test file its own realm, but native addons such as
 * onnxruntime-node create typed arrays in Node's main realm, and onnxruntime-common checks
 * tensor data with `instanceof` against the test realm's constructors, so every run fails with
 * "A float32 tensor's data must be type of function Float32Array()". Jest already shares
 * ArrayBuffer and Uint8Array with the main realm for Buffer; this shares the other typed arrays.
 * `testEnvironment` in jest.config.js).
 */
import { TestEnvironment } from 'jest-environment-node';

const SHARED_CONSTRUCTORS = [
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'DataView',
];

export default class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED_CONSTRUCTORS) this.global[name] = globalThis[name];
  }
}
