import { describe, it } from '@jest/globals';
import { expectParity } from './parity.js';

describe('facemesh: ONNX vs TF.js', () => {
  it('matches the original on every exposed output', async () => {
    await expectParity('facemesh');
  }, 120_000);
});
