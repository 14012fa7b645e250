/**
 * Writes CFP's frontal–profile (or frontal–frontal) verification pairs as a pairs TSV for
 * `face3d eval verify` (paths relative to the CFP folder), fold by fold, each fold's same pairs then
 * its different pairs. `eval verify`'s 10 stratified consecutive folds then split each CFP fold in
 * two halves, so a threshold is always chosen on other people.
 *   node dist/tools/eval/cfp-pairs.js --root ../shared/datasets/cfp [--split FP] [--folds 01,02,03,04,05] > cfp-fp-dev.tsv
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    split: { type: 'string', default: 'FP' },
    folds: { type: 'string' },
  },
});
if (!values.root) throw new Error('--root <CFP folder> is required');
if (values.split !== 'FP' && values.split !== 'FF') throw new Error(`--split is FP or FF, got ${values.split}`);
const root = values.root;
const protocol = join(root, 'Protocol');

/** Pair_list_F/P.txt: "index path" per line. */
async function pathList(file: string): Promise<Map<string, string>> {
  const lines = (await readFile(join(protocol, file), 'utf8')).split(/\r?\n/).filter((line) => line.trim() !== '');
  return new Map(lines.map((line) => {
    const [index, path] = line.trim().split(/\s+/);
    return [index, path];
  }));
}

const frontal = await pathList('Pair_list_F.txt');
const second = values.split === 'FP' ? await pathList('Pair_list_P.txt') : frontal;
const splitDir = join(protocol, 'Split', values.split);
const folds = values.folds?.split(',') ?? (await readdir(splitDir)).sort();
const lines = ['image_a\timage_b\tsame'];
for (const fold of folds) {
  for (const [file, same] of [['same.txt', 1], ['diff.txt', 0]] as const) {
    const text = await readFile(join(splitDir, fold, file), 'utf8');
    for (const line of text.split(/\r?\n/).filter((l) => l.trim() !== '')) {
      const [a, b] = line.trim().split(',');
      const imageA = frontal.get(a);
      const imageB = second.get(b);
      if (!imageA || !imageB) throw new Error(`${values.split}/${fold}/${file}: index ${imageA ? b : a} is not in the pair lists`);
      lines.push(`${imageA}\t${imageB}\t${same}`);
    }
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
