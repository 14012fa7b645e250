/**
 * The rooms below the service are configured by their callers, never by the process environment
 * (docs/ARCHITECTURE.md, "Rooms"): no file in them imports core/config.ts's `config()`.
 */
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { configReaders, readRooms } from './explicit-config.js';

const EXPLICITLY_CONFIGURED = ['inference', 'morphable', 'mesh', 'search', 'store'];

describe('src/', () => {
  it('reads no process configuration in the rooms configured explicitly', () => {
    const files = readRooms(join(process.cwd(), 'src'), EXPLICITLY_CONFIGURED);
    expect(files.size).toBeGreaterThan(50);
    expect(configReaders(files)).toEqual([]);
  });
});

describe('the explicit-configuration check', () => {
  const problem = (file: string): string => `${file} reads the process configuration (config() from core/config.ts); take settings from the caller instead`;

  it('passes types, environment-free values, and a `config` from elsewhere', () => {
    const files = new Map([
      ['inference/a.ts', "import type { Config } from '../core/config.js';\nimport { type Precision, DEFAULT_CONFIG } from '../core/config.js';"],
      ['inference/b.ts', "import { type config } from '../core/config.js';\nimport type { config as c } from '../core/config.js';"],
      ['inference/c.ts', "import { config } from './config.js';\nimport { config as other } from '../store/config.js';\nconst config = 1;"],
      ['store/d.ts', "export type { Config } from '../core/config.js';\nexport { loadConfig } from '../core/config.js';"],
    ]);
    expect(configReaders(files)).toEqual([]);
  });

  it('reports `config` imported, renamed, through the whole module, or re-exported', () => {
    const files = new Map([
      ['inference/a.ts', "import { config, type Device } from '../core/config.js';"],
      ['inference/deep/b.ts', "import { config as processConfig } from '../../core/config.js';"],
      ['mesh/c.ts', "import * as settings from '../core/config.js';"],
      ['store/d.ts', "export { config } from '../core/config.js';"],
      ['search/e.ts', "export * from '../core/config.js';"],
    ]);
    expect(configReaders(files)).toEqual(['inference/a.ts', 'inference/deep/b.ts', 'mesh/c.ts', 'store/d.ts', 'search/e.ts'].map(problem));
  });
});
