/**
 * The order of src/'s rooms, checked: every file's imports are read with the TypeScript compiler's
 * pre-processor (static imports, `export … from`, dynamic `import()`, type-only imports too), each
 * file belongs to the room named by its first folder under src/ (a file directly in src/ is a room
 * of its own), and an import may only go down the declared order, never up, never sideways to
 * another room of the same level, never into a room kept private to others, and never round in a
 * cycle between files. The same rules order the repository's top folders of code (src/, tools/,
 * bench/), each one room.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** Each file (relative to the source root, `/`-separated) and the files it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

export interface RoomRules {
  /** Lowest level first; a room may import the rooms of lower levels, not those of its own level. */
  readonly levels: readonly (readonly string[])[];
  /** Rooms that only the listed rooms may import (generated code behind the room that wraps it). */
  readonly privateTo?: Readonly<Record<string, readonly string[]>>;
}

/** Reads every `.ts` file below `root` (skipping the folders in `skip`), with its relative imports resolved to files. */
export function readImportGraph(root: string, skip: readonly string[] = []): ImportGraph {
  const graph = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const file = relative(root, path).split(sep).join('/');
      if (entry.isDirectory()) {
        if (!skip.includes(file)) walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        graph.set(file, importsOf(file, readFileSync(path, 'utf8')));
      }
    }
  };
  walk(root);
  return graph;
}

/**
 * The graphs of several top folders of `root` as one, each file named from `root` (`src/api/x.ts`),
 * so an import from one folder into another (`../src/…` in bench/) names its file, and each folder
 * is the room of its files; `skip` holds paths from `root`.
 */
export function readFoldersGraph(root: string, folders: readonly string[], skip: readonly string[] = []): ImportGraph {
  const graph = new Map<string, readonly string[]>();
  for (const folder of folders) {
    const skipped = skip.filter((path) => path.startsWith(`${folder}/`)).map((path) => path.slice(folder.length + 1));
    for (const [file, imports] of readImportGraph(join(root, folder), skipped)) {
      graph.set(`${folder}/${file}`, imports.map((target) => posix.join(folder, target)));
    }
  }
  return graph;
}

/** The files `text` (the file `file`) imports by relative path; `./x.js` is the source `./x.ts`. */
export function importsOf(file: string, text: string): string[] {
  const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((imported) => imported.fileName);
  const targets = specifiers
    .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
    .map((specifier) => posix.normalize(posix.join(dirname(file), specifier.replace(/\.js$/, '.ts'))));
  return [...new Set(targets)];
}

/** `api/context.ts` is in room `api`; `server.ts` in room `server`. */
export function roomOf(file: string): string {
  const [first, ...rest] = file.split('/');
  return rest.length === 0 ? first.replace(/\.ts$/, '') : first;
}

/** One line for each import that breaks the rules, and for each room the rules do not place. */
export function roomViolations(graph: ImportGraph, rules: RoomRules): string[] {
  const level = new Map(rules.levels.flatMap((rooms, i) => rooms.map((room) => [room, i] as const)));
  const problems = new Set<string>();
  for (const [file, imports] of graph) {
    const from = roomOf(file);
    if (!level.has(from)) problems.add(`${file}: its room '${from}' has no level in the rooms' order`);
    for (const target of imports) {
      if (target.startsWith('../')) {
        problems.add(`${file} imports ${target}, outside the source tree`);
        continue;
      }
      const to = roomOf(target);
      if (to === from) continue;
      const owners = rules.privateTo?.[to];
      if (owners && !owners.includes(from)) {
        problems.add(`${file} imports ${target}: room '${to}' is for ${owners.map((owner) => `'${owner}'`).join(', ')} only`);
      } else if (!owners && !level.has(to)) {
        problems.add(`${file} imports ${target}: its room '${to}' has no level in the rooms' order`);
      } else if (!owners && level.has(from) && level.get(to)! >= level.get(from)!) {
        const way = level.get(to) === level.get(from) ? 'sideways to' : 'up to';
        problems.add(`${file} imports ${target}: '${from}' (level ${level.get(from)}) ${way} '${to}' (level ${level.get(to)})`);
      }
    }
  }
  return [...problems].sort();
}

/** Every cycle of imports between files, as one loop through it (`a.ts → b.ts → a.ts`); Tarjan's strongly connected components. */
export function importCycles(graph: ImportGraph): string[] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const next = (file: string): readonly string[] => (graph.get(file) ?? []).filter((target) => graph.has(target));
  const visit = (file: string): void => {
    index.set(file, index.size);
    lowLink.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const target of next(file)) {
      if (!index.has(target)) {
        visit(target);
        lowLink.set(file, Math.min(lowLink.get(file)!, lowLink.get(target)!));
      } else if (onStack.has(target)) {
        lowLink.set(file, Math.min(lowLink.get(file)!, index.get(target)!));
      }
    }
    if (lowLink.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || next(file).includes(file)) components.push(component);
    }
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return components.map((component) => loopThrough(component, next)).sort();
}

/** The shortest loop from the component's first file (by name) back to it, staying inside the component. */
function loopThrough(component: readonly string[], next: (file: string) => readonly string[]): string {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const target of next(file)) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [file];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0])!);
        return [...path, start].join(' → ');
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, file);
        queue.push(target);
      }
    }
  }
  throw new Error(`no loop through ${start}`);
}
