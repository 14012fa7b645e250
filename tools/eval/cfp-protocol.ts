/**
 * CFP's verification protocol (Sengupta et al., WACV 2016): `Protocol/Pair_list_F.txt` and
 * `Pair_list_P.txt` map indices to image paths; `Protocol/Split/{FP,FF}/KK/{same,diff}.txt` list
 * `frontal_index,other_index` pairs per fold, folds disjoint by identity.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImagePair } from '../../src/dataset/folder-dataset.js';

export type CfpSplit = 'FP' | 'FF';

/** Pair_list_F/P.txt: "index path" per line. */
async function pathList(protocol: string, file: string): Promise<Map<string, string>> {
  const lines = (await readFile(join(protocol, file), 'utf8')).split(/\r?\n/).filter((line) => line.trim() !== '');
  return new Map(lines.map((line) => {
    const [index, path] = line.trim().split(/\s+/);
    return [index, path];
  }));
}

/** The pairs of `folds` (default: every fold present), fold by fold, each fold's same pairs then its different pairs; paths relative to `root`. */
export async function cfpPairs(root: string, split: CfpSplit, folds?: readonly string[]): Promise<ImagePair[]> {
  const protocol = join(root, 'Protocol');
  const frontal = await pathList(protocol, 'Pair_list_F.txt');
  const second = split === 'FP' ? await pathList(protocol, 'Pair_list_P.txt') : frontal;
  const splitDir = join(protocol, 'Split', split);
  const pairs: ImagePair[] = [];
  for (const fold of folds ?? (await readdir(splitDir)).sort()) {
    for (const [file, same] of [['same.txt', true], ['diff.txt', false]] as const) {
      const text = await readFile(join(splitDir, fold, file), 'utf8');
      for (const line of text.split(/\r?\n/).filter((l) => l.trim() !== '')) {
        const [a, b] = line.trim().split(',');
        const imageA = frontal.get(a);
        const imageB = second.get(b);
        if (!imageA || !imageB) throw new Error(`${split}/${fold}/${file}: index ${imageA ? b : a} is not in the pair lists`);
        pairs.push({ imageA, imageB, same });
      }
    }
  }
  return pairs;
}
