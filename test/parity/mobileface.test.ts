import { describe, it } from '@jest/globals';
import { expectParity } from './parity.js';

describe('mobileface: ONNX vs TF.js', () => {
  it('matches the original on every exposed output', async () => {
    await expectParity('mobileface');
  }, 120_000);
});
