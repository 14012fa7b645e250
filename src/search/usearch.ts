/**
 * The usearch native module, loaded once for the graph and the exact scans. Its ES module build
 * looks for its native binary next to `__dirname`, which ES modules lack, and fails; its CommonJS
 * build finds it, so it is loaded through `require`.
 */
import { createRequire } from 'node:module';
import type * as USearch from 'usearch';

export const usearch = createRequire(import.meta.url)('usearch') as typeof USearch;
export type { Index, ScalarKind } from 'usearch';
