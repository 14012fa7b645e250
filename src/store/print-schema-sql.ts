/**
 * Prints the SQLite DDL of the whole Prisma schema, the body of a baseline migration:
 *   npm run build && node dist/src/store/print-schema-sql.js > prisma/migrations/<stamp>_init/migration.sql
 * Later migrations are the difference between two such outputs, written as ALTER/redefine SQL;
 * test/integration/store.test.ts proves the migrated database matches this DDL.
 */
import { DATAMODEL_FILE, readDatamodel } from './dmmf.js';
import { sqliteSchemaSql } from './schema-sql.js';

process.stdout.write(sqliteSchemaSql(readDatamodel(process.argv[2] ?? DATAMODEL_FILE)));
