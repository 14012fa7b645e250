/**
 * What every GraphQL operation must pass before it runs, whichever transport brought it: Apollo
 * runs {@link operationGuardPlugin} for HTTP, src/api/websocket.ts calls the same functions for
 * graphql-ws, so both refuse exactly the same operations with the same codes.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  GraphQLID,
  isInputObjectType,
  isListType,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import Upload from 'graphql-upload/Upload.mjs';
import type { NextFunction, Request, Response } from 'express';
import { errorBody } from './errors.js';
import { assertWithinLimits, measureOperation, type FieldVisitor, type QueryLimits } from './limits.js';
import { describeInputProblem, documentContainsNul, inputProblem } from './security.js';

/**
 * Tokens a GraphQL document may hold. graphql-js validates a document by walking it once per rule
 * (about 30 walks), ~2 ms per thousand tokens on one core, before any limit of ours can look at
 * it: a 1 MB body of 5000 aliased introspections held the event loop for seconds. The largest
 * document face3d's own clients send (the viewer's) has a few hundred tokens, a full
 * introspection query about 300; 10,000 leaves room for any real operation.
 */
export const MAX_QUERY_TOKENS = 10_000;

/** For graphql's parse, on both transports. */
export const PARSE_OPTIONS = { maxTokens: MAX_QUERY_TOKENS } as const;

/**
 * How deep `{`, `[` and `(` may nest in a document: graphql-js parses and validates by recursion
 * (its parser's stack ran out at 2,000 levels, within the token limit), and no operation within
 * FACE3D_MAX_QUERY_DEPTH (at most 100), arguments included, comes near this.
 */
export const MAX_DOCUMENT_NESTING = 128;

const BLOCK_QUOTE = '"""';

/** Where the block string opened at `start` ends (after its closing quotes); `\"""` does not close it. */
function afterBlockString(query: string, start: number): number {
  for (let i = start + BLOCK_QUOTE.length; i < query.length; i++) {
    if (query[i] === '\\' && query.startsWith(BLOCK_QUOTE, i + 1)) i += BLOCK_QUOTE.length;
    else if (query.startsWith(BLOCK_QUOTE, i)) return i + BLOCK_QUOTE.length;
  }
  return query.length;
}

/** The deepest nesting of brackets in `query`, strings and comments skipped: one pass, no recursion. */
export function documentNesting(query: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < query.length; i++) {
    const char = query[i];
    if (char === '#') {
      while (i + 1 < query.length && query[i + 1] !== '\n' && query[i + 1] !== '\r') i++;
    } else if (query.startsWith(BLOCK_QUOTE, i)) {
      i = afterBlockString(query, i) - 1;
    } else if (char === '"') {
      for (i++; i < query.length && query[i] !== '"' && query[i] !== '\n'; i++) if (query[i] === '\\') i++;
    } else if (char === '{' || char === '[' || char === '(') {
      deepest = Math.max(deepest, ++depth);
    } else if (char === '}' || char === ']' || char === ')') {
      depth--;
    }
  }
  return deepest;
}

/** Why `query` may not be parsed (nested deeper than MAX_DOCUMENT_NESTING), or null. Refused as GRAPHQL_PARSE_FAILED. */
export function documentNestingProblem(query: string): string | null {
  const nesting = documentNesting(query);
  return nesting > MAX_DOCUMENT_NESTING ? `the document nests brackets ${nesting} levels deep; at most ${MAX_DOCUMENT_NESTING}` : null;
}

/** For HTTP: the nesting check before Apollo parses the document of a JSON or multipart body, or of a GET. */
export function refuseDeepDocuments(req: Request, res: Response, next: NextFunction): void {
  const query: unknown = (req.body as { query?: unknown } | undefined)?.query ?? req.query.query;
  const problem = typeof query === 'string' ? documentNestingProblem(query) : null;
  if (problem) {
    res.status(400).json(errorBody('GRAPHQL_PARSE_FAILED', problem));
    return;
  }
  next();
}

/** Ids are generated (UUIDs, CUIDs); nothing longer can exist, so a longer one is a mistake, and is not echoed back. */
export const MAX_ID_LENGTH = 128;

/**
 * The validation rules on top of graphql's own: introspection refused when it is off. Apollo gets
 * these (with its own `introspection` left on, so that it adds no rule of its own) and graphql-ws
 * runs graphql's rules and these, so both refuse introspection with the same errors.
 */
export function extraValidationRules(introspection: boolean): ValidationRule[] {
  return introspection ? [] : [noIntrospection];
}

/** One error per `__schema` or `__type` field (`__typename` is no introspection). */
const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') {
      context.reportError(new GraphQLError('introspection is off in production (NODE_ENV=production)', { nodes: [node] }));
    }
  },
});

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
}

const isUpload = (value: object): boolean => value instanceof Upload;

/** Every ID in `value`, a value of `type` (lists and input objects entered), is 1 to MAX_ID_LENGTH characters. */
function checkIds(value: unknown, type: GraphQLInputType, where: string): void {
  if (value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (Array.isArray(value)) for (const item of value) checkIds(item, nullable.ofType, where);
    return;
  }
  const named = getNamedType(type);
  if (named === GraphQLID && typeof value === 'string' && (value.trim() === '' || value.length > MAX_ID_LENGTH)) {
    throw badInput(`${where}: an id must be 1 to ${MAX_ID_LENGTH} characters (got ${value.trim() === '' ? 'an empty one' : `${value.length}`})`);
  }
  if (isInputObjectType(named) && typeof value === 'object') {
    for (const field of Object.values(named.getFields())) checkIds((value as Record<string, unknown>)[field.name], field.type, `${where}.${field.name}`);
  }
}

const checkIdArguments: FieldVisitor = (field, args) => {
  for (const argument of field.args) checkIds(args[argument.name], argument.type, `${field.name}(${argument.name})`);
};

/**
 * Throws a typed GraphQLError (HTTP 400) for variables holding U+0000 or nested past
 * MAX_INPUT_DEPTH, for empty or overlong ids, and for operations over the
 * depth or cost limit. Variables are walked once, without recursion, before anything else reads them.
 */
export function checkOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown>, limits: QueryLimits): void {
  const problem = inputProblem(variables, isUpload);
  if (problem) throw badInput(describeInputProblem(problem));
  if (documentContainsNul(document)) throw badInput(describeInputProblem('nul'));
  assertWithinLimits(measureOperation(schema, document, operationName, variables, checkIdArguments), limits);
}

export function operationGuardPlugin<T extends object>(limits: QueryLimits): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request, schema }) {
          checkOperation(schema, document, operationName, request.variables ?? {}, limits);
        },
        // Apollo answers a persisted query with 200 so that APQ clients fall back to sending the
        // query; persisted queries are off here and no client of ours sends one: a client mistake, 400.
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          if (errors?.some((error) => error.extensions?.code === 'PERSISTED_QUERY_NOT_SUPPORTED')) response.http.status = 400;
        },
      };
    },
  };
}
