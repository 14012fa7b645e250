import { readFileSync } from 'node:fs';

/**
 * The part of Prisma's DMMF datamodel that SQL generation and schema checks read. The full
 * datamodel is written by prisma/dmmf-generator.mjs during `npm run prisma:generate`; the
 * generated client only embeds a pruned copy without nullability, defaults or indexes.
 */
export interface DmmfDatamodel {
  readonly models: readonly DmmfModel[];
  readonly enums: readonly unknown[];
  readonly indexes: readonly DmmfIndex[];
}

export interface DmmfModel {
  readonly name: string;
  readonly dbName: string | null;
  readonly fields: readonly DmmfField[];
  readonly primaryKey: { readonly name: string | null; readonly fields: readonly string[] } | null;
}

export type ReferentialAction = 'Cascade' | 'Restrict' | 'NoAction' | 'SetNull' | 'SetDefault';

export interface DmmfField {
  readonly name: string;
  readonly dbName?: string | null;
  readonly kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  readonly type: string;
  readonly isList: boolean;
  readonly isRequired: boolean;
  readonly isId: boolean;
  readonly nativeType: unknown;
  readonly default?: DmmfDefault | string | number | boolean;
  readonly relationName?: string;
  readonly relationFromFields?: readonly string[];
  readonly relationToFields?: readonly string[];
  readonly relationOnDelete?: ReferentialAction;
  readonly relationOnUpdate?: ReferentialAction;
}

/** A function default such as `now()`, `cuid(1)`, `autoincrement()` or `dbgenerated("...")`. */
export interface DmmfDefault {
  readonly name: string;
  readonly args: readonly unknown[];
}

export interface DmmfIndex {
  readonly model: string;
  readonly type: 'id' | 'unique' | 'normal' | 'fulltext';
  readonly dbName?: string | null;
  readonly fields: readonly { readonly name: string }[];
}

/** Where `npm run prisma:generate` puts the datamodel, relative to the package root. */
export const DATAMODEL_FILE = 'src/generated/dmmf/datamodel.json';

export function readDatamodel(file: string): DmmfDatamodel {
  return JSON.parse(readFileSync(file, 'utf8')) as DmmfDatamodel;
}

export function tableName(model: DmmfModel): string {
  return model.dbName ?? model.name;
}

export function columnName(field: DmmfField): string {
  return field.dbName ?? field.name;
}

/** Fields stored as columns: scalars and enums, not the virtual relation fields. */
export function columnFields(model: DmmfModel): DmmfField[] {
  return model.fields.filter((field) => field.kind === 'scalar' || field.kind === 'enum');
}

export function findModel(datamodel: DmmfDatamodel, name: string): DmmfModel {
  const model = datamodel.models.find((candidate) => candidate.name === name);
  if (!model) throw new Error(`model ${name} is not in the datamodel`);
  return model;
}

function findField(model: DmmfModel, name: string): DmmfField {
  const field = model.fields.find((candidate) => candidate.name === name);
  if (!field) throw new Error(`field ${model.name}.${name} is not in the datamodel`);
  return field;
}

export function columnNames(model: DmmfModel, fieldNames: readonly string[]): string[] {
  return fieldNames.map((name) => columnName(findField(model, name)));
}

/** A foreign key, as declared by the relation field on the side that holds the columns. */
export interface ForeignKey {
  readonly name: string;
  readonly columns: readonly string[];
  readonly referencedTable: string;
  readonly referencedColumns: readonly string[];
  readonly onDelete: ReferentialAction;
  readonly onUpdate: ReferentialAction;
}

export function foreignKeys(datamodel: DmmfDatamodel, model: DmmfModel): ForeignKey[] {
  return model.fields
    .filter((field) => field.kind === 'object' && (field.relationFromFields?.length ?? 0) > 0)
    .map((field) => {
      const target = findModel(datamodel, field.type);
      const columns = columnNames(model, field.relationFromFields ?? []);
      return {
        name: `${tableName(model)}_${columns.join('_')}_fkey`,
        columns,
        referencedTable: tableName(target),
        referencedColumns: columnNames(target, field.relationToFields ?? []),
        // Prisma's defaults when the schema names no action.
        onDelete: field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull'),
        onUpdate: field.relationOnUpdate ?? 'Cascade',
      };
    });
}

/** A secondary index (unique or not); the primary key is part of the table definition. */
export interface SecondaryIndex {
  readonly name: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

export function secondaryIndexes(datamodel: DmmfDatamodel): SecondaryIndex[] {
  return datamodel.indexes
    .filter((index) => index.type === 'unique' || index.type === 'normal')
    .map((index) => {
      const model = findModel(datamodel, index.model);
      const table = tableName(model);
      const columns = columnNames(
        model,
        index.fields.map((field) => field.name),
      );
      const suffix = index.type === 'unique' ? 'key' : 'idx';
      return {
        name: index.dbName ?? `${table}_${columns.join('_')}_${suffix}`,
        table,
        columns,
        unique: index.type === 'unique',
      };
    });
}

/** Column names of the primary key, whether declared with `@id` or `@@id`. */
export function primaryKeyColumns(model: DmmfModel): string[] {
  if (model.primaryKey) return columnNames(model, model.primaryKey.fields);
  return columnFields(model)
    .filter((field) => field.isId)
    .map(columnName);
}

/** Relations whose both sides are lists: Prisma would keep them in a hidden `_AToB` join table. */
export function implicitManyToManyRelations(datamodel: DmmfDatamodel): string[] {
  const listSides = new Map<string, number>();
  for (const model of datamodel.models) {
    for (const field of model.fields) {
      if (field.kind === 'object' && field.isList && field.relationName) {
        listSides.set(field.relationName, (listSides.get(field.relationName) ?? 0) + 1);
      }
    }
  }
  return [...listSides].filter(([, count]) => count === 2).map(([relation]) => relation);
}
