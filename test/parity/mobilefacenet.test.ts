import { describe, it } from '@jest/globals';
import { expectParity } from './parity.js';

describe('mobilefacenet: ONNX vs TF.js', () => {
  it('matches the original on every exposed output', async () => {
    await expectParity('mobilefacenet');
  }, 120_000);
});
