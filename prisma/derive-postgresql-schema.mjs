// Writes prisma/postgresql/schema.prisma from prisma/schema.prisma, the single source of truth:
// the same models with the postgresql provider and the client generated beside the SQLite one.
// `--check` exits non-zero when the committed file is not what this derivation gives.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const prismaDir = dirname(fileURLToPath(import.meta.url));
const source = join(prismaDir, 'schema.prisma');
const target = join(prismaDir, 'postgresql', 'schema.prisma');

export function derivePostgresqlSchema(text) {
  const replace = (pattern, replacement) => {
    if (!pattern.test(text)) throw new Error(`prisma/schema.prisma no longer matches ${pattern}`);
    text = text.replace(pattern, replacement);
  };
  replace(/^(\/\/.*\n)+/, '// GENERATED from ../schema.prisma by prisma/derive-postgresql-schema.mjs (npm run prisma:generate): do not edit.\n// Migrations: prisma/postgresql/migrations, printed by tools/store/print-schema-sql.ts postgresql.\n');
  replace(/\ngenerator dmmf \{[^}]*\}\n/, '\n');
  replace(/output(\s*)= "\.\.\/src\/generated\/prisma"/, 'output$1= "../../src/generated/prisma-postgresql"');
  replace(/provider = "sqlite"/, 'provider = "postgresql"');
  return text;
}

const derived = derivePostgresqlSchema(readFileSync(source, 'utf8'));
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== derived) {
    process.stderr.write(`${target} differs from the derivation of ${source}: run npm run prisma:generate\n`);
    process.exit(1);
  }
} else {
  writeFileSync(target, derived);
}
