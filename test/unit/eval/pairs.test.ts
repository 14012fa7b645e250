import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { isFace3dError } from '../../../src/core/errors.js';
import { lfwImagePath, parseIdentifyList, parseLfwPairs, parsePairsTsv } from '../../../src/eval/pairs.js';

/** Runs `parse` and returns the BAD_USER_INPUT message it must throw. */
function badInputMessage(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    if (isFace3dError(error) && error.code === 'BAD_USER_INPUT') return error.message;
    throw error;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('parseLfwPairs', () => {
  it('names images the LFW way', () => {
    expect(lfwImagePath('Abdullah_Gul', 13)).toBe('Abdullah_Gul/Abdullah_Gul_0013.jpg');
  });

  it('parses a View 1 file: a count, same pairs, then different pairs', () => {
    const parsed = parseLfwPairs('2\nAl_Gore\t1\t3\nBo\t2\t4\r\nAl_Gore\t1\tBo\t2\nCy\t10\tDee\t1\n\n');
    expect([parsed.folds, parsed.pairsPerKind]).toEqual([1, 2]);
    expect(parsed.pairs).toEqual([
      { imageA: 'Al_Gore/Al_Gore_0001.jpg', imageB: 'Al_Gore/Al_Gore_0003.jpg', same: true },
      { imageA: 'Bo/Bo_0002.jpg', imageB: 'Bo/Bo_0004.jpg', same: true },
      { imageA: 'Al_Gore/Al_Gore_0001.jpg', imageB: 'Bo/Bo_0002.jpg', same: false },
      { imageA: 'Cy/Cy_0010.jpg', imageB: 'Dee/Dee_0001.jpg', same: false },
    ]);
  });

  it('parses a View 2 file: "folds N", then per fold N same and N different', () => {
    const parsed = parseLfwPairs('2 1\nA 1 2\nA 1 B 1\nC 3 4\nC 1 D 2\n');
    expect([parsed.folds, parsed.pairsPerKind]).toEqual([2, 1]);
    expect(parsed.pairs.map((p) => p.same)).toEqual([true, false, true, false]);
  });

  it('reports malformed lines with their line numbers', () => {
    expect(badInputMessage(() => parseLfwPairs('1\nA 1\nA 1 B 2\n', 'pairs.txt'))).toBe(
      'pairs.txt line 2: expected a same-person line "name i j" (3 fields), got 2 fields',
    );
    expect(badInputMessage(() => parseLfwPairs('1\nA 1 2\nA 1 B x\n'))).toMatch(/line 3: image number must be a positive integer, got "x"/);
    expect(badInputMessage(() => parseLfwPairs('1\nA 1 2\nA 0 B 1\n'))).toMatch(/line 3: image number/);
    expect(badInputMessage(() => parseLfwPairs('1\nA 1 2\nA 1 A 3\n'))).toMatch(/line 3: a different-people line names A twice/);
    expect(badInputMessage(() => parseLfwPairs('1\nA 1 B 2\nA 1 2\n'))).toMatch(/line 2: expected a same-person line/);
    expect(badInputMessage(() => parseLfwPairs('two\n'))).toMatch(/line 1: header count must be a positive integer/);
    expect(badInputMessage(() => parseLfwPairs('1 2 3\n'))).toMatch(/line 1: header must be "N" or "folds N"/);
    expect(badInputMessage(() => parseLfwPairs('2\nA 1 2\nB 1 C 1\n'))).toMatch(/promises 1 fold\(s\) x 2 same \+ 2 different = 4 pair lines, found 2/);
    expect(badInputMessage(() => parseLfwPairs(' \n'))).toMatch(/is empty/);
  });

  const devTest = resolve(process.cwd(), '../shared/datasets/lfw/pairsDevTest.txt');
  const present = existsSync(devTest);
  (present ? it : it.skip)(`parses the real View 1 test pairs${present ? '' : ' (skipped: ../shared/datasets/lfw/pairsDevTest.txt is absent)'}`, () => {
    const parsed = parseLfwPairs(readFileSync(devTest, 'utf8'), devTest);
    expect([parsed.folds, parsed.pairsPerKind, parsed.pairs.length]).toEqual([1, 500, 1000]);
    expect(parsed.pairs.slice(0, 500).every((p) => p.same)).toBe(true);
    expect(parsed.pairs.slice(500).every((p) => !p.same)).toBe(true);
    expect(parsed.pairs[0]).toEqual({ imageA: 'Abdullah_Gul/Abdullah_Gul_0013.jpg', imageB: 'Abdullah_Gul/Abdullah_Gul_0014.jpg', same: true });
    const datasetRoot = resolve(devTest, '../dev');
    if (existsSync(datasetRoot)) {
      expect(parsed.pairs.every((p) => existsSync(resolve(datasetRoot, p.imageA)) && existsSync(resolve(datasetRoot, p.imageB)))).toBe(true);
    }
  });
});

describe('parsePairsTsv', () => {
  it('parses pairs with 1/0 and true/false', () => {
    expect(parsePairsTsv('image_a\timage_b\tsame\na.jpg\tb.jpg\t1\nc d.jpg\te.jpg\tFALSE\r\n')).toEqual([
      { imageA: 'a.jpg', imageB: 'b.jpg', same: true },
      { imageA: 'c d.jpg', imageB: 'e.jpg', same: false },
    ]);
  });

  it('reports a wrong header, a wrong field count, an empty field and a bad flag with line numbers', () => {
    expect(badInputMessage(() => parsePairsTsv('a\tb\tsame\n'))).toMatch(/line 1: header must be "image_a<TAB>image_b<TAB>same"/);
    expect(badInputMessage(() => parsePairsTsv('image_a\timage_b\tsame\n\na.jpg\tb.jpg\n'))).toMatch(/line 3: expected 3 tab-separated fields, got 2/);
    expect(badInputMessage(() => parsePairsTsv('image_a\timage_b\tsame\na.jpg\t\t1\n'))).toMatch(/line 2: image_b is empty/);
    expect(badInputMessage(() => parsePairsTsv('image_a\timage_b\tsame\na.jpg\tb.jpg\tyes\n', 'my.tsv'))).toBe(
      'my.tsv line 2: same must be 1, 0, true or false, got "yes"',
    );
    expect(badInputMessage(() => parsePairsTsv(''))).toMatch(/is empty/);
  });
});

describe('parseIdentifyList', () => {
  it('parses gallery and probe entries', () => {
    expect(parseIdentifyList('image\trole\tsubject\nx/1.jpg\tgallery\tx\nx/2.jpg\tprobe\tx\n')).toEqual([
      { image: 'x/1.jpg', role: 'gallery', subject: 'x' },
      { image: 'x/2.jpg', role: 'probe', subject: 'x' },
    ]);
  });

  it('rejects an unknown role with its line number', () => {
    expect(badInputMessage(() => parseIdentifyList('image\trole\tsubject\nx/1.jpg\tgallery\tx\nx/2.jpg\tquery\tx\n'))).toBe(
      'identify list line 3: role must be gallery or probe, got "query"',
    );
  });
});
