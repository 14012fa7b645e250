/**
 * Where unit tests live: `test/unit/` mirrors the source tree, so the tests of `src/<room>/<module>.ts`
 * are `test/unit/<room>/<module>.test.ts` (a second file for one module adds its aspect:
 * `<module>.<aspect>.test.ts`), and the tests of `tools/<tool>/<module>.ts` are
 * `test/unit/tools/<tool>/<module>.test.ts`. A test that fits no module is listed with its reason.
 */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Every file below `root` whose name ends with `suffix`, relative to `root` and `/`-separated. */
export function filesBelow(root: string, suffix: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(suffix)) found.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return found.sort();
}

/** The source file a unit test (relative to `test/unit/`) is named after: `inference/decode.property.test.ts` → `src/inference/decode.ts`. */
export function moduleUnderTest(testFile: string): string {
  const slash = testFile.lastIndexOf('/');
  const folder = testFile.slice(0, slash + 1);
  const module = testFile.slice(slash + 1).replace(/\.test\.ts$/, '').split('.')[0];
  return folder.startsWith('tools/') ? `${folder}${module}.ts` : `src/${folder}${module}.ts`;
}

/**
 * One line for each unit test that is not named after a source file of its folder and is not listed,
 * for each listed test without a reason, and for each listed test that no longer exists.
 * `testFiles` are relative to `test/unit/`, `sourceFiles` to the repository root.
 */
export function misplacedTests(testFiles: readonly string[], sourceFiles: ReadonlySet<string>, listed: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const test of testFiles) {
    if (!test.endsWith('.test.ts')) continue;
    const module = moduleUnderTest(test);
    if (test in listed) {
      if (listed[test].trim() === '') problems.push(`test/unit/${test} is listed without a reason`);
    } else if (!sourceFiles.has(module)) {
      problems.push(`test/unit/${test} tests no ${module}: move it beside the module it tests, named after it, or list it with its reason`);
    }
  }
  for (const test of Object.keys(listed)) {
    if (!testFiles.includes(test)) problems.push(`test/unit/${test} is listed but does not exist`);
  }
  return problems;
}
