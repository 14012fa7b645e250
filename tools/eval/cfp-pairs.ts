/**
 * Writes CFP's frontal–profile (or frontal–frontal) verification pairs as a pairs TSV for
 * `face3d eval verify` (paths relative to the CFP folder), fold by fold, each fold's same pairs then
 * its different pairs. `eval verify`'s 10 stratified consecutive folds then split each CFP fold in
 * two halves, so a threshold is always chosen on other people.
 *   node dist/tools/eval/cfp-pairs.js --root ../shared/datasets/cfp [--split FP] [--folds 01,02,03,04,05] > cfp-fp-dev.tsv
 */
import { parseArgs } from 'node:util';
import { cfpPairs } from './cfp-protocol.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    split: { type: 'string', default: 'FP' },
    folds: { type: 'string' },
  },
});
if (!values.root) throw new Error('--root <CFP folder> is required');
if (values.split !== 'FP' && values.split !== 'FF') throw new Error(`--split is FP or FF, got ${values.split}`);
const pairs = await cfpPairs(values.root, values.split, values.folds?.split(','));
const lines = ['image_a\timage_b\tsame', ...pairs.map((p) => `${p.imageA}\t${p.imageB}\t${p.same ? 1 : 0}`)];
process.stdout.write(`${lines.join('\n')}\n`);
