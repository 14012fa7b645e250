/**
 * Prints the DDL of the whole Prisma schema for one provider, the body of a baseline migration:
 *   npm run build && node dist/tools/store/print-schema-sql.js sqlite > prisma/migrations/<stamp>_init/migration.sql
 *   node dist/tools/store/print-schema-sql.js postgresql > prisma/postgresql/migrations/<stamp>_init/migration.sql
 * Later migrations are the difference between two such outputs; test/integration/store.test.ts
 * proves each provider's migrated database matches this DDL.
 */
import { DATAMODEL_FILE, readDatamodel } from '../../src/store/dmmf.js';
import { schemaSql, type SqlProvider } from '../../src/store/schema-sql.js';

const provider = (process.argv[2] ?? 'sqlite') as SqlProvider;
if (provider !== 'sqlite' && provider !== 'postgresql') throw new Error(`provider must be sqlite or postgresql, got ${provider}`);
process.stdout.write(schemaSql(readDatamodel(process.argv[3] ?? DATAMODEL_FILE), provider));
