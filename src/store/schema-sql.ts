import {
  columnFields,
  columnName,
  type DmmfDatamodel,
  type DmmfDefault,
  type DmmfField,
  type DmmfModel,
  foreignKeys,
  implicitManyToManyRelations,
  primaryKeyColumns,
  type ReferentialAction,
  secondaryIndexes,
  tableName,
} from './dmmf.js';

/**
 * SQLite DDL for a whole Prisma datamodel, written the way `prisma migrate diff --from-empty`
 * writes it (same column types, constraint and index names), so that the Prisma CLI, where it
 * can run, sees no drift. The schema engine that normally produces this cannot be downloaded
 * here; this keeps schema.prisma the single source of truth for the SQL all the same.
 * A later PostgreSQL flavour needs its own type and default tables, nothing else.
 */
const SQLITE_TYPES: Readonly<Record<string, string>> = {
  String: 'TEXT',
  Int: 'INTEGER',
  BigInt: 'BIGINT',
  Float: 'REAL',
  Decimal: 'DECIMAL',
  Boolean: 'BOOLEAN',
  DateTime: 'DATETIME',
  Json: 'JSONB',
  Bytes: 'BLOB',
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

function columnDefinition(model: DmmfModel, field: DmmfField, inlinePrimaryKey: boolean): string {
  const where = `${model.name}.${field.name}`;
  if (field.kind !== 'scalar') throw new Error(`${where}: ${field.kind} fields are not supported on SQLite`);
  if (field.isList) throw new Error(`${where}: scalar lists are not supported on SQLite`);
  if (field.nativeType) throw new Error(`${where}: native types (@db.*) are not supported by this generator`);
  const type = SQLITE_TYPES[field.type];
  if (!type) throw new Error(`${where}: no SQLite type for Prisma type ${field.type}`);
  const parts = [quoteIdentifier(columnName(field)), type];
  if (field.isRequired) parts.push('NOT NULL');
  if (inlinePrimaryKey) parts.push('PRIMARY KEY');
  if (inlinePrimaryKey && isAutoincrement(field)) parts.push('AUTOINCREMENT');
  const defaultSql = defaultClause(field);
  if (defaultSql) parts.push(defaultSql);
  return parts.join(' ');
}

function createTable(datamodel: DmmfDatamodel, model: DmmfModel): string {
  const table = tableName(model);
  const primaryKey = primaryKeyColumns(model);
  const inline = primaryKey.length === 1;
  const lines = columnFields(model).map((field) =>
    columnDefinition(model, field, inline && columnName(field) === primaryKey[0]),
  );
  if (primaryKey.length > 1) {
    const name = model.primaryKey?.name ?? `${table}_pkey`;
    lines.push(`CONSTRAINT ${quoteIdentifier(name)} PRIMARY KEY (${quoteList(primaryKey)})`);
  }
  for (const key of foreignKeys(datamodel, model)) {
    lines.push(
      `CONSTRAINT ${quoteIdentifier(key.name)} FOREIGN KEY (${quoteList(key.columns)}) ` +
        `REFERENCES ${quoteIdentifier(key.referencedTable)} (${quoteList(key.referencedColumns)}) ` +
        `ON DELETE ${SQL_ACTIONS[key.onDelete]} ON UPDATE ${SQL_ACTIONS[key.onUpdate]}`,
    );
  }
  return `-- CreateTable\nCREATE TABLE ${quoteIdentifier(table)} (\n    ${lines.join(',\n    ')}\n);\n`;
}

export function sqliteSchemaSql(datamodel: DmmfDatamodel): string {
  if (datamodel.enums.length > 0) throw new Error('enums are not supported on SQLite: use String columns');
  const joinTables = implicitManyToManyRelations(datamodel);
  if (joinTables.length > 0) {
    throw new Error(`implicit many-to-many relations (${joinTables.join(', ')}) need an explicit join model`);
  }
  const tables = datamodel.models.map((model) => createTable(datamodel, model));
  const indexes = secondaryIndexes(datamodel).map(
    (index) =>
      `-- CreateIndex\nCREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdentifier(index.name)} ` +
      `ON ${quoteIdentifier(index.table)}(${quoteList(index.columns)});\n`,
  );
  return [...tables, ...indexes].join('\n');
}
