import { describe, it } from '@jest/globals';
import { expectParity } from './parity.js';

describe('faceres: ONNX vs TF.js', () => {
  it('matches the original on every exposed output', async () => {
    await expectParity('faceres');
  }, 120_000);
});
