/**
 * The rooms that are configured explicitly: their modules are handed their settings (a Config, or a
 * smaller type built from it, like inference's InferenceSettings) by whoever opens them, and never
 * read the process environment through core/config.ts's `config()`. Types (`Config`, `Precision`)
 * and environment-free values (`DEFAULT_CONFIG`, `loadConfig`) may still be imported.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** The module, relative to the source root, whose `config` reads the process environment. */
const CONFIG_MODULE = 'core/config.ts';

/** Every `.ts` file below `root/<room>` for each room, keyed by its path relative to `root` (`/`-separated). */
export function readRooms(root: string, rooms: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.set(relative(root, path).split(sep).join('/'), readFileSync(path, 'utf8'));
    }
  };
  for (const room of rooms) walk(join(root, room));
  return files;
}

function isConfigModule(file: string, specifier: ts.Expression | undefined): boolean {
  if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) return false;
  return posix.normalize(posix.join(dirname(file), specifier.text.replace(/\.js$/, '.ts'))) === CONFIG_MODULE;
}

/** `config` itself, by any local name, or the whole module (through which `config` is reachable). */
function readsConfig(clause: ts.ImportClause | undefined): boolean {
  const bindings = clause?.namedBindings;
  if (!clause || clause.isTypeOnly || !bindings) return false;
  if (ts.isNamespaceImport(bindings)) return true;
  return bindings.elements.some((element) => !element.isTypeOnly && (element.propertyName ?? element.name).text === 'config');
}

/** One line for each file (path relative to the source root) that imports `config` from core/config.ts. */
export function configReaders(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of files) {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    for (const statement of source.statements) {
      const imported = ts.isImportDeclaration(statement) && isConfigModule(file, statement.moduleSpecifier) && readsConfig(statement.importClause);
      const reExported =
        ts.isExportDeclaration(statement) && !statement.isTypeOnly && isConfigModule(file, statement.moduleSpecifier) &&
        (!statement.exportClause || (ts.isNamedExports(statement.exportClause) && statement.exportClause.elements.some((element) => (element.propertyName ?? element.name).text === 'config')));
      if (imported || reExported) problems.push(`${file} reads the process configuration (config() from ${CONFIG_MODULE}); take settings from the caller instead`);
    }
  }
  return problems;
}
