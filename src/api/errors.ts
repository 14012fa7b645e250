/**
 * Errors as clients see them: every one has `extensions.code`. A Face3dError keeps its code and
 * message; GraphQL's own request errors keep Apollo's codes; anything else is INTERNAL, and its
 * message is replaced unless `debug` (FACE3D_DEBUG), since it may describe the server's insides.
 */
import { ApolloServerErrorCode, ApolloServerValidationErrorCode, unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { isFace3dError } from '../core/errors.js';
import { asClientError, BUSY_RETRY_AFTER_S } from '../store/prisma-errors.js';

const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set(
  [...Object.values(ApolloServerErrorCode), ...Object.values(ApolloServerValidationErrorCode), 'RATE_LIMITED'].filter((code) => code !== ApolloServerErrorCode.INTERNAL_SERVER_ERROR),
);

export const INTERNAL_MESSAGE = 'internal error: the server logged the details';

export type ErrorLogger = (error: unknown) => void;

/** Messages may quote input (an id, a value of the wrong type): past this length they are cut, so no response echoes unbounded input. */
export const MAX_MESSAGE_LENGTH = 500;

export function boundedMessage(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH)}… (${message.length - MAX_MESSAGE_LENGTH} more characters)`;
}

/** graphql's hints that name fields, arguments and enum values (as Apollo's hideSchemaDetailsFromClientErrors removes them). */
const SUGGESTION = / ?Did you mean(.+?)\?$/;

export type ErrorFormatter = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

function classify(debug: boolean, log: ErrorLogger): ErrorFormatter {
  return (formatted, error) => {
    const { stacktrace, ...extensions } = formatted.extensions ?? {};
    const details = debug && stacktrace !== undefined ? { stacktrace } : {};
    const original = asClientError(unwrapResolverError(error));
    if (isFace3dError(original) && original.code !== 'INTERNAL') {
      return { ...formatted, message: original.message, extensions: { ...extensions, code: original.code, ...details } };
    }
    if (typeof extensions.code === 'string' && CLIENT_ERROR_CODES.has(extensions.code)) {
      return { ...formatted, extensions: { ...extensions, ...details } };
    }
    log(original);
    return { ...formatted, message: debug ? formatted.message : INTERNAL_MESSAGE, extensions: { code: 'INTERNAL', ...details } };
  };
}

/**
 * The formatter of both transports. `hideSchemaDetails` (production, where introspection is off):
 * no "Did you mean" hints, which would tell the schema piece by piece.
 */
export function createErrorFormatter(debug: boolean, log: ErrorLogger, hideSchemaDetails = false): ErrorFormatter {
  const format = classify(debug, log);
  return (formatted, error) => {
    const result = format(formatted, error);
    const message = hideSchemaDetails ? result.message.replace(SUGGESTION, '') : result.message;
    return { ...result, message: boundedMessage(message) };
  };
}

/** The response body of errors that happen before GraphQL runs (multipart parsing, CSRF). */
export function errorBody(code: string, message: string): { errors: GraphQLFormattedError[] } {
  return { errors: [{ message: boundedMessage(message), extensions: { code } }] };
}

/** Errors that are the server's state, not the request's fault, with the HTTP status that says so. */
export const SERVER_STATE_STATUS: Readonly<Record<string, number>> = { DATABASE_BUSY: 503, STORAGE_UNAVAILABLE: 503, STORAGE_FULL: 507 };

/**
 * A response with no data whose error is the server's state (a locked database, a full or
 * read-only photo store) carries that HTTP status instead of 200, so clients, proxies and
 * monitors see it; DATABASE_BUSY also carries Retry-After.
 */
export function serverStatePlugin(): ApolloServerPlugin {
  return {
    requestDidStart: async () => ({
      willSendResponse: async ({ response }) => {
        if (response.body.kind !== 'single') return;
        const { data, errors } = response.body.singleResult;
        const codes = (errors ?? []).map((error) => String(error.extensions?.code));
        if (codes.includes('DATABASE_BUSY')) response.http.headers.set('retry-after', String(BUSY_RETRY_AFTER_S));
        const status = codes.map((code) => SERVER_STATE_STATUS[code]).find((value) => value !== undefined);
        if (status !== undefined && (data === null || data === undefined)) response.http.status = status;
      },
    }),
  };
}
