import {
  columnFields,
  columnName,
  type DmmfDatamodel,
  type DmmfDefault,
  type DmmfField,
  type DmmfModel,
  foreignKeys,
  type ForeignKey,
  implicitManyToManyRelations,
  primaryKeyColumns,
  type ReferentialAction,
  secondaryIndexes,
  tableName,
} from './dmmf.js';

/**
 * The DDL of a whole Prisma datamodel for one provider, written the way
 * `prisma migrate diff --from-empty` writes it (same column types, constraint and index names),
 * so that the Prisma CLI, where it can run, sees no drift. The schema engine that normally
 * produces this cannot be downloaded here; this keeps schema.prisma the single source of truth
 * for the SQL of both providers all the same.
 */
export type SqlProvider = 'sqlite' | 'postgresql';

interface Dialect {
  readonly types: Readonly<Record<string, string>>;
  /** The column type of an `@default(autoincrement())` integer key. */
  readonly autoincrementType: string;
  /** SQLite declares a one-column key inline; PostgreSQL always as a named constraint. */
  readonly inlinePrimaryKey: boolean;
  /** SQLite cannot add a foreign key to an existing table; PostgreSQL's diff adds them after all tables. */
  readonly foreignKeysInTable: boolean;
}

const DIALECTS: Readonly<Record<SqlProvider, Dialect>> = {
  sqlite: {
    types: { String: 'TEXT', Int: 'INTEGER', BigInt: 'BIGINT', Float: 'REAL', Decimal: 'DECIMAL', Boolean: 'BOOLEAN', DateTime: 'DATETIME', Json: 'JSONB', Bytes: 'BLOB' },
    autoincrementType: 'INTEGER',
    inlinePrimaryKey: true,
    foreignKeysInTable: true,
  },
  postgresql: {
    types: {
      String: 'TEXT',
      Int: 'INTEGER',
      BigInt: 'BIGINT',
      Float: 'DOUBLE PRECISION',
      Decimal: 'DECIMAL(65,30)',
      Boolean: 'BOOLEAN',
      DateTime: 'TIMESTAMP(3)',
      Json: 'JSONB',
      Bytes: 'BYTEA',
    },
    autoincrementType: 'SERIAL',
    inlinePrimaryKey: false,
    foreignKeysInTable: false,
  },
};

const SQL_ACTIONS: Readonly<Record<ReferentialAction, string>> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteList(names: readonly string[]): string {
  return names.map(quoteIdentifier).join(', ');
}

function sqlLiteral(value: string | number | boolean): string {
  return typeof value === 'string' ? `'${value.replaceAll("'", "''")}'` : String(value);
}

function isFunctionDefault(value: DmmfField['default']): value is DmmfDefault {
  return typeof value === 'object';
}

/** The DEFAULT clause, or undefined where the client fills the value (cuid(), uuid(), ...). */
function defaultClause(field: DmmfField): string | undefined {
  const value = field.default;
  if (value === undefined) return undefined;
  if (!isFunctionDefault(value)) return `DEFAULT ${sqlLiteral(value)}`;
  if (value.name === 'now') return 'DEFAULT CURRENT_TIMESTAMP';
  if (value.name === 'dbgenerated' && typeof value.args[0] === 'string') return `DEFAULT ${value.args[0]}`;
  return undefined;
}

function isAutoincrement(field: DmmfField): boolean {
  return isFunctionDefault(field.default) && field.default.name === 'autoincrement';
}

function columnDefinition(dialect: Dialect, model: DmmfModel, field: DmmfField, inlinePrimaryKey: boolean): string {
  const where = `${model.name}.${field.name}`;
  if (field.kind !== 'scalar') throw new Error(`${where}: ${field.kind} fields are not supported (use String columns)`);
  if (field.isList) throw new Error(`${where}: scalar lists are not supported on SQLite`);
  if (field.nativeType) throw new Error(`${where}: native types (@db.*) are not supported by this generator`);
  const type = isAutoincrement(field) ? dialect.autoincrementType : dialect.types[field.type];
  if (!type) throw new Error(`${where}: no SQL type for Prisma type ${field.type}`);
  const parts = [quoteIdentifier(columnName(field)), type];
  if (field.isRequired) parts.push('NOT NULL');
  if (inlinePrimaryKey) parts.push('PRIMARY KEY');
  if (inlinePrimaryKey && isAutoincrement(field)) parts.push('AUTOINCREMENT');
  const defaultSql = isAutoincrement(field) ? undefined : defaultClause(field);
  if (defaultSql) parts.push(defaultSql);
  return parts.join(' ');
}

function foreignKeyClause(key: ForeignKey): string {
  return (
    `CONSTRAINT ${quoteIdentifier(key.name)} FOREIGN KEY (${quoteList(key.columns)}) ` +
    `REFERENCES ${quoteIdentifier(key.referencedTable)} (${quoteList(key.referencedColumns)}) ` +
    `ON DELETE ${SQL_ACTIONS[key.onDelete]} ON UPDATE ${SQL_ACTIONS[key.onUpdate]}`
  );
}

function createTable(dialect: Dialect, datamodel: DmmfDatamodel, model: DmmfModel): string {
  const table = tableName(model);
  const primaryKey = primaryKeyColumns(model);
  const inline = dialect.inlinePrimaryKey && primaryKey.length === 1;
  const lines = columnFields(model).map((field) => columnDefinition(dialect, model, field, inline && columnName(field) === primaryKey[0]));
  if (!inline && primaryKey.length > 0) {
    const name = model.primaryKey?.name ?? `${table}_pkey`;
    lines.push(`CONSTRAINT ${quoteIdentifier(name)} PRIMARY KEY (${quoteList(primaryKey)})`);
  }
  if (dialect.foreignKeysInTable) lines.push(...foreignKeys(datamodel, model).map(foreignKeyClause));
  return `-- CreateTable\nCREATE TABLE ${quoteIdentifier(table)} (\n    ${lines.join(',\n    ')}\n);\n`;
}

export function schemaSql(datamodel: DmmfDatamodel, provider: SqlProvider): string {
  const dialect = DIALECTS[provider];
  if (datamodel.enums.length > 0) throw new Error('enums are not supported: use String columns listed in src/store/enums.ts');
  const joinTables = implicitManyToManyRelations(datamodel);
  if (joinTables.length > 0) {
    throw new Error(`implicit many-to-many relations (${joinTables.join(', ')}) need an explicit join model`);
  }
  const tables = datamodel.models.map((model) => createTable(dialect, datamodel, model));
  const indexes = secondaryIndexes(datamodel).map(
    (index) =>
      `-- CreateIndex\nCREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdentifier(index.name)} ` +
      `ON ${quoteIdentifier(index.table)}(${quoteList(index.columns)});\n`,
  );
  const addedKeys = dialect.foreignKeysInTable
    ? []
    : datamodel.models.flatMap((model) =>
        foreignKeys(datamodel, model).map((key) => `-- AddForeignKey\nALTER TABLE ${quoteIdentifier(tableName(model))} ADD ${foreignKeyClause(key)};\n`),
      );
  return [...tables, ...indexes, ...addedKeys].join('\n');
}
