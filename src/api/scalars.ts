import { GraphQLError, GraphQLScalarType, Kind, valueFromASTUntyped } from 'graphql';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});

function parseDate(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new GraphQLError(`DateTime must be an ISO 8601 string, got ${JSON.stringify(value)}`);
  return date;
}

export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => (value instanceof Date ? value : parseDate(value)).toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

export const scalarResolvers = { JSON: JSONScalar, DateTime: DateTimeScalar, Upload: GraphQLUpload };
