import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';
import { createErrorFormatter, INTERNAL_MESSAGE } from '../../../src/api/errors.js';
import { Face3dError } from '../../../src/core/errors.js';

/** What Apollo hands formatError for an error thrown in a resolver. */
function fromResolver(original: Error): { formatted: { message: string; path: string[]; extensions: Record<string, unknown> }; error: GraphQLError } {
  const error = new GraphQLError(original.message, { originalError: original, path: ['field'] });
  return { formatted: { message: original.message, path: ['field'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at somewhere'] } }, error };
}

describe('createErrorFormatter', () => {
  it('gives a Face3dError its own code and message', () => {
    const { formatted, error } = fromResolver(new Face3dError('NO_FACE', 'no face found in the image'));
    expect(createErrorFormatter(false, () => undefined)(formatted, error)).toEqual({ message: 'no face found in the image', path: ['field'], extensions: { code: 'NO_FACE' } });
  });

  it('keeps Apollo’s request error codes', () => {
    const formatted = { message: 'Cannot query field "nope"', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
    expect(createErrorFormatter(false, () => undefined)(formatted, new GraphQLError(formatted.message))).toEqual(formatted);
  });

  it('hides anything else behind INTERNAL unless debugging, logging it, and keeps details when debugging', () => {
    const logged: unknown[] = [];
    const { formatted, error } = fromResolver(new Error('SQLITE_CORRUPT at /srv/secret/path'));
    expect(createErrorFormatter(false, (e) => logged.push(e))(formatted, error)).toEqual({ message: INTERNAL_MESSAGE, path: ['field'], extensions: { code: 'INTERNAL' } });
    expect(logged).toHaveLength(1);
    const development = createErrorFormatter(true, () => undefined)(formatted, error);
    expect(development).toMatchObject({ message: 'SQLITE_CORRUPT at /srv/secret/path', extensions: { code: 'INTERNAL', stacktrace: ['at somewhere'] } });
  });
});
