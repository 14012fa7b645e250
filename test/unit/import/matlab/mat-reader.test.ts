import { describe, expect, it } from '@jest/globals';
import { readMat, rowMajor, type MatValue } from '../../../../src/import/matlab/mat-reader.js';
import { matColumn, matMatrix, writeMat, type MatInput } from '../../../helpers/mat-writer.js';

const variables: Record<string, MatInput> = {
  // 2 x 3 given row by row; MATLAB keeps it column by column.
  m: matMatrix(2, 3, [1, 2, 3, 4, 5, 6]),
  s: matColumn([0.5, -1.25, 3e-7], 'single'),
  // Integer-valued doubles stored narrower, as MATLAB does when compressing.
  tl: matMatrix(2, 3, [1, 2, 3, 1, 3, 65535], 'double', 'uint16'),
  i: matMatrix(1, 2, [-7, 2147483647], 'int32'),
  name: { kind: 'char', text: 'Basel' },
  BFM: { kind: 'struct', fields: { shapeEV: matColumn([3, 2]), note: { kind: 'char', text: 'ok' }, nested: { kind: 'struct', fields: { tx: matColumn([-1.5]) } } } },
  c: { kind: 'cell', elements: [matColumn([1]), { kind: 'char', text: 'two' }] },
};

function numbers(value: MatValue | undefined): number[] {
  if (value?.kind !== 'numeric') throw new Error(`not numeric: ${value?.kind}`);
  return Array.from(value.data);
}

describe.each([
  { label: 'uncompressed, little-endian', options: {} },
  { label: 'miCOMPRESSED (zlib), little-endian', options: { compress: true } },
  { label: 'uncompressed, big-endian', options: { bigEndian: true } },
  { label: 'miCOMPRESSED, big-endian', options: { compress: true, bigEndian: true } },
])('MAT v5 reader: $label', ({ options }) => {
  const read = readMat(writeMat(variables, options));

  it('reads numeric arrays column-major with their dims and class', () => {
    const m = read.get('m');
    expect(m).toMatchObject({ kind: 'numeric', class: 'double', dims: [2, 3] });
    expect(numbers(m)).toEqual([1, 4, 2, 5, 3, 6]);
    if (m?.kind !== 'numeric') throw new Error('numeric expected');
    expect(Array.from(rowMajor(m))).toEqual([1, 2, 3, 4, 5, 6]);
    const s = read.get('s');
    expect(s?.kind === 'numeric' && s.data).toBeInstanceOf(Float32Array);
    expect(numbers(s)).toEqual([0.5, -1.25, Math.fround(3e-7)]);
    expect(numbers(read.get('tl'))).toEqual([1, 1, 2, 3, 3, 65535]);
    expect(read.get('i')).toMatchObject({ class: 'int32', dims: [1, 2] });
    expect(numbers(read.get('i'))).toEqual([-7, 2147483647]);
  });

  it('reads char arrays, structs (nested) and cell arrays', () => {
    expect(read.get('name')).toMatchObject({ kind: 'char', text: 'Basel' });
    const bfm = read.get('BFM');
    if (bfm?.kind !== 'struct') throw new Error('struct expected');
    expect(bfm.fields).toEqual(['shapeEV', 'note', 'nested']);
    expect(numbers(bfm.elements[0].get('shapeEV'))).toEqual([3, 2]);
    expect(bfm.elements[0].get('note')).toMatchObject({ text: 'ok' });
    const nested = bfm.elements[0].get('nested');
    expect(nested?.kind === 'struct' && numbers(nested.elements[0].get('tx'))).toEqual([-1.5]);
    const cell = read.get('c');
    expect(cell?.kind === 'cell' && cell.elements.map((e) => e.kind)).toEqual(['numeric', 'char']);
  });
});

describe('MAT reader errors', () => {
  it('rejects v7.3 (HDF5) files and non-MAT bytes as BAD_USER_INPUT', () => {
    const header = new Uint8Array(512);
    header.set(new TextEncoder().encode('MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .'));
    expect(() => readMat(header)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', message: expect.stringContaining('7.3') }));
    expect(() => readMat(new Uint8Array(200))).toThrow(/endian indicator/);
    const truncated = writeMat({ m: matMatrix(2, 2, [1, 2, 3, 4]) }).subarray(0, 150);
    expect(() => readMat(truncated)).toThrow(/not a readable MAT-file/);
  });
});
