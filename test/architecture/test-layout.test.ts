/**
 * test/unit/ mirrors the source tree (docs/ARCHITECTURE.md, "Where tests live"): every unit test is
 * named after a module of the folder it sits in, so a module's tests are found from its path and a
 * moved or renamed module takes its tests along.
 */
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { filesBelow, misplacedTests, moduleUnderTest } from './test-layout.js';

/** Unit tests that test no one module, each with the reason. */
const LISTED: Readonly<Record<string, string>> = {};

describe('test/unit/', () => {
  it('holds each unit test under the room of the module it is named after', () => {
    const root = process.cwd();
    const sources = new Set([...filesBelow(join(root, 'src'), '.ts').map((file) => `src/${file}`), ...filesBelow(join(root, 'tools'), '.ts').map((file) => `tools/${file}`)]);
    expect(misplacedTests(filesBelow(join(root, 'test', 'unit'), '.test.ts'), sources, LISTED)).toEqual([]);
  });
});

describe('the test layout check', () => {
  const sources = new Set(['src/inference/decode.ts', 'src/server.ts', 'src/import/caffe/convert.ts', 'tools/tfjs-to-onnx/ops/conv.ts']);

  it('names the module a test file is named after, aspects and tools included', () => {
    expect(moduleUnderTest('inference/decode.test.ts')).toBe('src/inference/decode.ts');
    expect(moduleUnderTest('inference/decode.property.test.ts')).toBe('src/inference/decode.ts');
    expect(moduleUnderTest('server.test.ts')).toBe('src/server.ts');
    expect(moduleUnderTest('tools/tfjs-to-onnx/ops/conv.test.ts')).toBe('tools/tfjs-to-onnx/ops/conv.ts');
  });

  it('passes tests that mirror their modules, helpers that are no tests, and listed tests with a reason', () => {
    const tests = ['inference/decode.test.ts', 'inference/decode.header.test.ts', 'server.test.ts', 'import/caffe/convert.test.ts', 'tools/tfjs-to-onnx/ops/conv.test.ts', 'tools/tfjs-to-onnx/harness.ts', 'odd.test.ts'];
    expect(misplacedTests(tests, sources, { 'odd.test.ts': 'tests how two rooms meet' })).toEqual([]);
  });

  it('reports a flat test, a test in the wrong room, a test of a module that is gone, and a tool test outside tools/', () => {
    const tests = ['decode.test.ts', 'gallery/decode.test.ts', 'inference/decoder.test.ts', 'tfjs-to-onnx/ops/conv.test.ts'];
    expect(misplacedTests(tests, sources, {})).toEqual([
      'test/unit/decode.test.ts tests no src/decode.ts: move it beside the module it tests, named after it, or list it with its reason',
      'test/unit/gallery/decode.test.ts tests no src/gallery/decode.ts: move it beside the module it tests, named after it, or list it with its reason',
      'test/unit/inference/decoder.test.ts tests no src/inference/decoder.ts: move it beside the module it tests, named after it, or list it with its reason',
      'test/unit/tfjs-to-onnx/ops/conv.test.ts tests no src/tfjs-to-onnx/ops/conv.ts: move it beside the module it tests, named after it, or list it with its reason',
    ]);
  });

  it('reports a listed test without a reason and one that no longer exists', () => {
    expect(misplacedTests(['odd.test.ts'], sources, { 'odd.test.ts': ' ', 'gone.test.ts': 'was here' })).toEqual([
      'test/unit/odd.test.ts is listed without a reason',
      'test/unit/gone.test.ts is listed but does not exist',
    ]);
  });
});
