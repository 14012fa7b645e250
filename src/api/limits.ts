/**
 * Query depth and cost limits, so that one request cannot make the server resolve an unbounded
 * tree. Cost counts the fields a query may resolve: each field is 1, times the page sizes of
 * the lists above it (`first`, `topK`, with their schema defaults). Introspection is free.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import {
  getArgumentValues,
  getNamedType,
  GraphQLError,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
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

/** Arguments that say how many items a list field returns. */
const SIZE_ARGUMENTS = ['first', 'topK'] as const;

function listSize(args: Record<string, unknown>): number {
  for (const name of SIZE_ARGUMENTS) {
    const value = args[name];
    if (typeof value === 'number' && Number.isFinite(value)) return Math.max(1, value);
  }
  return 1;
}

function findOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  return operationName ? operations.find((operation) => operation.name?.value === operationName) : operations[0];
}

class Measurer {
  private readonly fragments: Map<string, FragmentDefinitionNode>;

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Record<string, unknown>,
  ) {
    this.fragments = new Map(
      document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION).map((fragment) => [fragment.name.value, fragment]),
    );
  }

  /** Fragments already being expanded on this path are skipped: validation rejects such cycles anyway. */
  measure(selections: SelectionSetNode, parent: GraphQLNamedType, multiplier: number, depth: number, expanding: ReadonlySet<string>): QueryMeasure {
    let result: QueryMeasure = { depth: depth - 1, cost: 0 };
    const add = (inner: QueryMeasure): void => {
      result = { depth: Math.max(result.depth, inner.depth), cost: result.cost + inner.cost };
    };
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) continue;
        const field = parent.getFields()[selection.name.value];
        if (!field) continue;
        add({ depth, cost: multiplier });
        if (!selection.selectionSet) continue;
        let size = 1;
        try {
          size = listSize(getArgumentValues(field, selection, this.variables));
        } catch {
          // Bad arguments fail validation or execution with their own error.
        }
        add(this.measure(selection.selectionSet, getNamedType(field.type), multiplier * size, depth + 1, expanding));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parent;
        add(this.measure(selection.selectionSet, type ?? parent, multiplier, depth, expanding));
      } else {
        const name = selection.name.value;
        const fragment = this.fragments.get(name);
        if (!fragment || expanding.has(name)) continue;
        const type = this.schema.getType(fragment.typeCondition.name.value) ?? parent;
        add(this.measure(fragment.selectionSet, type, multiplier, depth, new Set([...expanding, name])));
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
): QueryMeasure {
  const operation = findOperation(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return { depth: 0, cost: 0 };
  return new Measurer(schema, document, variables).measure(operation.selectionSet, root, 1, 1, new Set());
}

function limitError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });
}

/** Throws GRAPHQL_VALIDATION_FAILED naming the limit that was exceeded. */
export function assertWithinLimits(measure: QueryMeasure, limits: QueryLimits): void {
  if (measure.depth > limits.maxDepth) throw limitError(`query depth ${measure.depth} is over the limit of ${limits.maxDepth}`);
  if (measure.cost > limits.maxCost) throw limitError(`query cost ${measure.cost} is over the limit of ${limits.maxCost}; ask for smaller pages`);
}

export function queryLimitsPlugin<T extends object>(limits: QueryLimits): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request, schema }) {
          assertWithinLimits(measureOperation(schema, document, operationName, request.variables ?? {}), limits);
        },
      };
    },
  };
}
