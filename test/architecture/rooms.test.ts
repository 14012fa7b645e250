/**
 * src/'s rooms and their order (docs/ARCHITECTURE.md, "Rooms"): a room may import only the rooms
 * on lower levels, and no files import each other round in a cycle. A new folder under src/ fails
 * here until it is given its level. Above src/, tools/ and bench/ are ordered the same way.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { importCycles, readFoldersGraph, readImportGraph, roomViolations, type ImportGraph, type RoomRules } from './import-graph.js';

/** Lowest first. Rooms on one level are independent of each other. */
const ROOMS: RoomRules = {
  levels: [
    ['core'],
    ['training', 'onnx', 'search', 'mesh'],
    ['morphable', 'dataset'],
    ['inference', 'store'],
    ['import', 'auth', 'backup'],
    ['gallery'],
    ['jobs', 'eval'],
    ['api'],
    ['observability'],
    ['service'],
    ['server'],
    ['cli'],
  ],
  // The Prisma clients are reached through store/ only.
  privateTo: { generated: ['store'] },
};

describe('src/', () => {
  const graph = readImportGraph(join(process.cwd(), 'src'), ['generated']);

  it('imports only down the rooms’ order', () => {
    expect(roomViolations(graph, ROOMS)).toEqual([]);
  });

  it('has no cycle of imports between files', () => {
    expect(importCycles(graph)).toEqual([]);
  });
});

/**
 * The code of the repository beside the tests, lowest first: the tools (converters, training,
 * evaluations) build on src/, the benchmarks on both (a synthetic Caffe model, shaded faces); the
 * service imports neither, nor anything else outside src/.
 */
const TOP_FOLDERS: RoomRules = { levels: [['src'], ['tools'], ['bench']] };

describe('src/, tools/ and bench/', () => {
  const graph = readFoldersGraph(process.cwd(), ['src', 'tools', 'bench'], ['src/generated']);

  // Cycles are checked within src/ only: tools/tfjs-to-onnx/build-models.ts runs the other build
  // steps, which take their option and result types from it (type-only imports, no cycle at run time).
  it('import only down: src/ none of the others, tools/ not bench/, and none of them tests or anything else', () => {
    expect(roomViolations(graph, TOP_FOLDERS)).toEqual([]);
  });
});

describe('the rooms check', () => {
  const rules: RoomRules = { levels: [['low'], ['mid', 'side'], ['high']], privateTo: { secret: ['mid'] } };
  const graphOf = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

  it('passes imports that go down the order, within a room, and into a private room by its owner', () => {
    const graph = graphOf({ 'high/a.ts': ['mid/b.ts', 'low/c.ts', 'high/d.ts'], 'high/d.ts': [], 'mid/b.ts': ['low/c.ts', 'secret/s.ts'], 'low/c.ts': [] });
    expect(roomViolations(graph, rules)).toEqual([]);
    expect(importCycles(graph)).toEqual([]);
  });

  it('reports an import up the order and one sideways between rooms of one level', () => {
    const graph = graphOf({ 'low/c.ts': ['high/a.ts'], 'mid/b.ts': ['side/e.ts'], 'high/a.ts': [], 'side/e.ts': [] });
    expect(roomViolations(graph, rules)).toEqual([
      "low/c.ts imports high/a.ts: 'low' (level 0) up to 'high' (level 2)",
      "mid/b.ts imports side/e.ts: 'mid' (level 1) sideways to 'side' (level 1)",
    ]);
  });

  it('reports a room without a level, a private room imported by another, and an import from outside the tree', () => {
    const graph = graphOf({ 'attic/x.ts': ['low/c.ts'], 'high/a.ts': ['secret/s.ts', 'cellar/y.ts', '../tools/t.ts'], 'low/c.ts': [] });
    expect(roomViolations(graph, rules)).toEqual([
      "attic/x.ts: its room 'attic' has no level in the rooms' order",
      "high/a.ts imports ../tools/t.ts, outside the source tree",
      "high/a.ts imports cellar/y.ts: its room 'cellar' has no level in the rooms' order",
      "high/a.ts imports secret/s.ts: room 'secret' is for 'mid' only",
    ]);
  });

  it('reports each cycle between files, within one room or across rooms, as a loop through it', () => {
    const graph = graphOf({
      'mid/a.ts': ['mid/b.ts'],
      'mid/b.ts': ['mid/c.ts', 'low/x.ts'],
      'mid/c.ts': ['mid/a.ts'],
      'low/x.ts': ['low/x.ts'],
      'high/p.ts': ['low/q.ts'],
      'low/q.ts': ['high/p.ts'],
    });
    expect(importCycles(graph)).toEqual(['high/p.ts → low/q.ts → high/p.ts', 'low/x.ts → low/x.ts', 'mid/a.ts → mid/b.ts → mid/c.ts → mid/a.ts']);
  });

  it('reads several top folders as one graph, naming files from the root, and orders the folders as rooms', () => {
    const root = mkdtempSync(join(tmpdir(), 'face3d-rooms-'));
    try {
      for (const folder of ['src', 'src/generated', 'tools', 'bench']) mkdirSync(join(root, folder));
      writeFileSync(join(root, 'src', 'a.ts'), "import '../tools/t.js';");
      writeFileSync(join(root, 'src', 'generated', 'client.ts'), "import '../../bench/b.js';");
      writeFileSync(join(root, 'tools', 't.ts'), "import '../src/a.js';\nimport '../test/helper.js';");
      writeFileSync(join(root, 'bench', 'b.ts'), "import '../src/a.js';\nimport '../tools/t.js';");
      const graph = readFoldersGraph(root, ['src', 'tools', 'bench'], ['src/generated']);
      expect(Object.fromEntries(graph)).toEqual({ 'src/a.ts': ['tools/t.ts'], 'tools/t.ts': ['src/a.ts', 'test/helper.ts'], 'bench/b.ts': ['src/a.ts', 'tools/t.ts'] });
      expect(roomViolations(graph, { levels: [['src'], ['tools'], ['bench']] })).toEqual([
        "src/a.ts imports tools/t.ts: 'src' (level 0) up to 'tools' (level 1)",
        "tools/t.ts imports test/helper.ts: its room 'test' has no level in the rooms' order",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reads static, type-only, re-exported and dynamic imports, resolving `.js` to the `.ts` source', () => {
    const root = mkdtempSync(join(tmpdir(), 'face3d-rooms-'));
    try {
      mkdirSync(join(root, 'high'));
      mkdirSync(join(root, 'low'));
      writeFileSync(
        join(root, 'high', 'a.ts'),
        [
          "import { x } from '../low/x.js';",
          "import type { Y } from '../low/y.js';",
          "export { z } from './z.js';",
          "import express from 'express';",
          "export async function late() { return import('../low/w.js'); }",
        ].join('\n'),
      );
      writeFileSync(join(root, 'high', 'z.ts'), 'export const z = 1;');
      writeFileSync(join(root, 'low', 'x.ts'), 'export const x = 1;');
      writeFileSync(join(root, 'low', 'types.d.ts'), "import '../high/a.js';");
      expect(Object.fromEntries(readImportGraph(root))).toEqual({
        'high/a.ts': ['low/x.ts', 'low/y.ts', 'high/z.ts', 'low/w.ts'],
        'high/z.ts': [],
        'low/x.ts': [],
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
