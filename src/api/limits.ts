/**
 * Query depth and cost limits, so that one operation cannot make the server do unbounded work.
 * Cost charges what a field's work costs: each field is 1, a field that runs inference, builds a
 * mesh or scans the subjects carries {@link FIELD_COSTS} on top, and every field's cost is
 * multiplied by the page sizes of the lists above it (`first`, `topK`, with their schema
 * defaults). Aliases are separate fields, so they multiply the cost too. Introspection fields
 * cost a tenth each, their lists counted at this schema's real (mean) sizes.
 */
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  GraphQLError,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxCost: number;
}

export interface QueryMeasure {
  readonly depth: number;
  readonly cost: number;
}

/**
 * The work of one field against the 1 of resolving a stored value: inference (one face photo
 * through the networks, ~100–300 ms of CPU), a mesh export (~15 ms and ~0.5 MB), a scan of the
 * subjects table (LIKE search, count), and an introspection field (the schema, in memory). At the
 * default FACE3D_MAX_QUERY_COST of 5000 an operation holds at most 5 inference fields (verify
 * counts 2), about 24 meshes or 48 scans, with their subfields.
 */
export const FIELD_COSTS = { inference: 900, mesh: 200, scan: 100, introspection: 0.1 } as const;

type CostOf = (args: Record<string, unknown>) => number;

const COSTLY_FIELDS: Readonly<Record<string, Readonly<Record<string, CostOf>>>> = {
  Query: {
    identify: () => FIELD_COSTS.inference,
    // Each side may be an upload to encode.
    verify: () => 2 * FIELD_COSTS.inference,
    subjects: (args) => (typeof args.search === 'string' && args.search.trim() !== '' ? FIELD_COSTS.scan : 0),
  },
  // The photos are decoded and stored now and encoded by the worker; FACE3D_MAX_UPLOAD_FILES bounds them.
  Mutation: { enrollPhotos: () => FIELD_COSTS.inference },
  Subject: { mesh: () => FIELD_COSTS.mesh },
  Face: { mesh: () => FIELD_COSTS.mesh },
  SubjectConnection: { totalCount: () => FIELD_COSTS.scan },
};

/** Arguments that say how many items a list field returns. */
const SIZE_ARGUMENTS = ['first', 'topK'] as const;

function pageSize(args: Record<string, unknown>): number {
  for (const name of SIZE_ARGUMENTS) {
    const value = args[name];
    if (typeof value === 'number' && Number.isFinite(value)) return Math.max(1, value);
  }
  return 1;
}

const mean = (counts: readonly number[]): number => counts.reduce((sum, count) => sum + count, 0) / Math.max(1, counts.length);

/** How many items each introspection list returns in this schema (the mean where it varies by type or field: what a full introspection returns). */
function introspectionListSizes(schema: GraphQLSchema): Readonly<Record<string, number>> {
  const types = Object.values(schema.getTypeMap());
  const fields = types.flatMap((type) => (isObjectType(type) || isInterfaceType(type) ? [Object.values(type.getFields())] : []));
  return {
    types: types.length,
    directives: schema.getDirectives().length,
    fields: mean(fields.map((list) => list.length)),
    inputFields: mean(types.flatMap((type) => (isInputObjectType(type) ? [Object.keys(type.getFields()).length] : []))),
    enumValues: mean(types.flatMap((type) => ('getValues' in type ? [type.getValues().length] : []))),
    args: mean([...fields.flat(), ...schema.getDirectives()].map((item) => item.args.length)),
    interfaces: mean(types.flatMap((type) => (isObjectType(type) || isInterfaceType(type) ? [type.getInterfaces().length] : []))),
    possibleTypes: mean(types.flatMap((type) => (isInterfaceType(type) ? [schema.getPossibleTypes(type).length] : []))),
  };
}

const listSizesBySchema = new WeakMap<GraphQLSchema, Readonly<Record<string, number>>>();

function findOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  return operationName ? operations.find((operation) => operation.name?.value === operationName) : operations[0];
}

/** Called for every field of the operation with its arguments (raw variables substituted); may throw. */
export type FieldVisitor = (field: GraphQLField<unknown, unknown>, args: Record<string, unknown>) => void;

class Measurer {
  private readonly fragments: Map<string, FragmentDefinitionNode>;
  private readonly listSizes: Readonly<Record<string, number>>;

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Record<string, unknown>,
    private readonly visitField: FieldVisitor,
  ) {
    this.fragments = new Map(
      document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION).map((fragment) => [fragment.name.value, fragment]),
    );
    let sizes = listSizesBySchema.get(schema);
    if (!sizes) listSizesBySchema.set(schema, (sizes = introspectionListSizes(schema)));
    this.listSizes = sizes;
  }

  private fieldOf(parent: GraphQLNamedType, selection: FieldNode): GraphQLField<unknown, unknown> | undefined {
    const name = selection.name.value;
    if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
    if (parent === this.schema.getQueryType() && name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (parent === this.schema.getQueryType() && name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
    return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
  }

  private argumentsOf(field: GraphQLField<unknown, unknown>, selection: FieldNode): Record<string, unknown> {
    try {
      return getArgumentValues(field, selection, this.variables);
    } catch {
      // Bad arguments fail validation or execution with their own error.
      return {};
    }
  }

  private fieldCost(parent: GraphQLNamedType, field: GraphQLField<unknown, unknown>, args: Record<string, unknown>): number {
    if (field.name.startsWith('__') || parent.name.startsWith('__')) return FIELD_COSTS.introspection;
    return 1 + (COSTLY_FIELDS[parent.name]?.[field.name]?.(args) ?? 0);
  }

  /** Items of a list field: the page size its parent field asked for, or for introspection lists this schema's sizes. */
  private listSize(parent: GraphQLNamedType, field: GraphQLField<unknown, unknown>, pageSizeAsked: number): number {
    if (!isListType(getNullableType(field.type))) return 1;
    return parent.name.startsWith('__') ? (this.listSizes[field.name] ?? 1) : pageSizeAsked;
  }

  /**
   * `pageSizeAsked`: the page size the field above asked for, which multiplies the list fields
   * right under it (a connection's `edges`, identify's `matches`) and what is below them, not
   * the fields resolved once per page (`totalCount`). Fragments already being expanded on this
   * path are skipped: validation rejects such cycles anyway.
   */
  measure(selections: SelectionSetNode, parent: GraphQLNamedType, multiplier: number, pageSizeAsked: number, depth: number, expanding: ReadonlySet<string>): QueryMeasure {
    let result: QueryMeasure = { depth: depth - 1, cost: 0 };
    const add = (inner: QueryMeasure): void => {
      result = { depth: Math.max(result.depth, inner.depth), cost: result.cost + inner.cost };
    };
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = this.fieldOf(parent, selection);
        if (!field) continue;
        const args = this.argumentsOf(field, selection);
        this.visitField(field, args);
        add({ depth, cost: multiplier * this.fieldCost(parent, field, args) });
        if (!selection.selectionSet) continue;
        const items = multiplier * this.listSize(parent, field, pageSizeAsked);
        add(this.measure(selection.selectionSet, getNamedType(field.type), items, pageSize(args), depth + 1, expanding));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parent;
        add(this.measure(selection.selectionSet, type ?? parent, multiplier, pageSizeAsked, depth, expanding));
      } else {
        const name = selection.name.value;
        const fragment = this.fragments.get(name);
        if (!fragment || expanding.has(name)) continue;
        const type = this.schema.getType(fragment.typeCondition.name.value) ?? parent;
        add(this.measure(fragment.selectionSet, type, multiplier, pageSizeAsked, depth, new Set([...expanding, name])));
      }
    }
    return result;
  }
}

export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
  variables: Record<string, unknown> = {},
  visitField: FieldVisitor = () => undefined,
): QueryMeasure {
  const operation = findOperation(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return { depth: 0, cost: 0 };
  const { depth, cost } = new Measurer(schema, document, variables, visitField).measure(operation.selectionSet, root, 1, 1, 1, new Set());
  return { depth, cost: Math.ceil(cost) };
}

function limitError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });
}

/** Throws GRAPHQL_VALIDATION_FAILED naming the limit that was exceeded. */
export function assertWithinLimits(measure: QueryMeasure, limits: QueryLimits): void {
  if (measure.depth > limits.maxDepth) throw limitError(`query depth ${measure.depth} is over the limit of ${limits.maxDepth}`);
  if (measure.cost > limits.maxCost) {
    throw limitError(
      `query cost ${measure.cost} is over the limit of ${limits.maxCost}; ask for smaller pages, and at most ` +
        `${Math.floor(limits.maxCost / FIELD_COSTS.inference)} inference fields (identify, verify counts 2, enrollPhotos) or ${Math.floor(limits.maxCost / FIELD_COSTS.mesh)} meshes per operation`,
    );
  }
}
