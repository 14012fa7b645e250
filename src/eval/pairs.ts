/**
 * Evaluation protocol files: LFW pairs files, our TSV pairs lists and identification lists.
 * Parsing is pure (text in, records out); malformed input raises BAD_USER_INPUT naming the
 * source and the 1-based line. Blank lines are ignored; CRLF line ends are accepted.
 */
import { Face3dError } from '../core/errors.js';
import type { ImagePair } from '../dataset/folder-dataset.js';

export interface LfwPairs {
  /** 1 for View 1 files (header `N`), the header's first number for View 2 (`folds N`). */
  readonly folds: number;
  /** Same pairs (and different pairs) per fold. */
  readonly pairsPerKind: number;
  /** In file order: per fold, its same pairs then its different pairs. */
  readonly pairs: ImagePair[];
}

interface Line {
  readonly number: number;
  readonly text: string;
}

function contentLines(text: string): Line[] {
  return text
    .split(/\r?\n/)
    .map((line, index) => ({ number: index + 1, text: line }))
    .filter((line) => line.text.trim() !== '');
}

function fail(source: string, line: number | undefined, message: string): never {
  throw new Face3dError('BAD_USER_INPUT', line === undefined ? `${source}: ${message}` : `${source} line ${line}: ${message}`);
}

/** LFW's naming: image k of a person is `<name>/<name>_%04d.jpg`. */
export function lfwImagePath(name: string, index: number): string {
  return `${name}/${name}_${String(index).padStart(4, '0')}.jpg`;
}

/**
 * An LFW pairs file: a header `N` (View 1) or `folds N` (View 2), then for each fold N lines
 * `name i j` (two images of one person) followed by N lines `name1 i name2 j` (two people).
 */
export function parseLfwPairs(text: string, source = 'LFW pairs file'): LfwPairs {
  const [header, ...body] = contentLines(text);
  if (!header) fail(source, undefined, 'is empty');
  const counts = header.text.trim().split(/\s+/).map((field) => positiveInteger(field, source, header.number, 'header count'));
  if (counts.length > 2) fail(source, header.number, `header must be "N" or "folds N", got "${header.text.trim()}"`);
  const [folds, pairsPerKind] = counts.length === 2 ? counts : [1, counts[0]];
  const expected = folds * 2 * pairsPerKind;
  if (body.length !== expected) {
    fail(source, undefined, `header promises ${folds} fold(s) x ${pairsPerKind} same + ${pairsPerKind} different = ${expected} pair lines, found ${body.length}`);
  }
  const pairs = body.map((line, index) => {
    const same = index % (2 * pairsPerKind) < pairsPerKind;
    return same ? parseSameLine(line, source) : parseDifferentLine(line, source);
  });
  return { folds, pairsPerKind, pairs };
}

function parseSameLine(line: Line, source: string): ImagePair {
  const fields = line.text.trim().split(/\s+/);
  if (fields.length !== 3) fail(source, line.number, `expected a same-person line "name i j" (3 fields), got ${fields.length} fields`);
  const [name, first, second] = fields;
  return { imageA: lfwImage(name, first, source, line), imageB: lfwImage(name, second, source, line), same: true };
}

function parseDifferentLine(line: Line, source: string): ImagePair {
  const fields = line.text.trim().split(/\s+/);
  if (fields.length !== 4) fail(source, line.number, `expected a different-people line "name1 i name2 j" (4 fields), got ${fields.length} fields`);
  const [nameA, first, nameB, second] = fields;
  if (nameA === nameB) fail(source, line.number, `a different-people line names ${nameA} twice`);
  return { imageA: lfwImage(nameA, first, source, line), imageB: lfwImage(nameB, second, source, line), same: false };
}

function lfwImage(name: string, index: string, source: string, line: Line): string {
  return lfwImagePath(name, positiveInteger(index, source, line.number, 'image number'));
}

function positiveInteger(field: string, source: string, line: number, what: string): number {
  if (!/^\d+$/.test(field) || Number(field) < 1) fail(source, line, `${what} must be a positive integer, got "${field}"`);
  return Number(field);
}

/** Data rows of a tab-separated file whose first line must be exactly `columns`. */
function tsvRows(text: string, source: string, columns: readonly string[]): Array<{ number: number; fields: string[] }> {
  const [header, ...body] = contentLines(text);
  if (!header) fail(source, undefined, 'is empty');
  const names = header.text.split('\t').map((name) => name.trim());
  if (names.join('\t') !== columns.join('\t')) fail(source, header.number, `header must be "${columns.join('<TAB>')}", got "${names.join('<TAB>')}"`);
  return body.map((line) => {
    const fields = line.text.split('\t').map((field) => field.trim());
    if (fields.length !== columns.length) fail(source, line.number, `expected ${columns.length} tab-separated fields, got ${fields.length}`);
    const empty = fields.findIndex((field) => field === '');
    if (empty >= 0) fail(source, line.number, `${columns[empty]} is empty`);
    return { number: line.number, fields };
  });
}

const SAME_VALUES: Readonly<Record<string, boolean>> = { '1': true, true: true, '0': false, false: false };

/** TSV with header `image_a<TAB>image_b<TAB>same`; same is 1/0 or true/false. */
export function parsePairsTsv(text: string, source = 'pairs TSV'): ImagePair[] {
  return tsvRows(text, source, ['image_a', 'image_b', 'same']).map(({ number, fields: [imageA, imageB, same] }) => {
    const value = SAME_VALUES[same.toLowerCase()];
    if (value === undefined) fail(source, number, `same must be 1, 0, true or false, got "${same}"`);
    return { imageA, imageB, same: value };
  });
}

export type IdentifyRole = 'gallery' | 'probe';

export interface IdentifyEntry {
  readonly image: string;
  readonly role: IdentifyRole;
  readonly subject: string;
}

/** TSV with header `image<TAB>role<TAB>subject`; role is gallery or probe. */
export function parseIdentifyList(text: string, source = 'identify list'): IdentifyEntry[] {
  return tsvRows(text, source, ['image', 'role', 'subject']).map(({ number, fields: [image, role, subject] }) => {
    if (role !== 'gallery' && role !== 'probe') fail(source, number, `role must be gallery or probe, got "${role}"`);
    return { image, role, subject };
  });
}
