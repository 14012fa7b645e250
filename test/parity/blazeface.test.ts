import { describe, it } from '@jest/globals';
import { expectParity } from './parity.js';

describe('blazeface: ONNX vs TF.js', () => {
  it('matches the original on every exposed output', async () => {
    await expectParity('blazeface');
  }, 120_000);
});
