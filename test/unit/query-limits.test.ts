import { describe, expect, it } from '@jest/globals';
import { parse } from 'graphql';
import { buildSchema } from '../../src/api/schema.js';
import { assertWithinLimits, measureOperation } from '../../src/api/limits.js';

const schema = buildSchema();

function measure(query: string, variables: Record<string, unknown> = {}, operationName?: string) {
  return measureOperation(schema, parse(query), operationName, variables);
}

describe('measureOperation', () => {
  it('counts nesting depth from the root fields', () => {
    expect(measure('{ serverInfo { bundle } }').depth).toBe(2);
    expect(measure('{ subjects { edges { node { photos { edges { node { face { vector { shape } } } } } } } } }').depth).toBe(9);
  });

  it('multiplies fields under a list by its page size, schema defaults included', () => {
    // subjects(first: 20 by default) → edges → node → id: 1 + 20 × (1 + 1 + 1)
    expect(measure('{ subjects { edges { node { id } } } }').cost).toBe(61);
    expect(measure('query($n: Int) { subjects(first: $n) { edges { node { id } } } }', { n: 2 }).cost).toBe(7);
    // identify(topK: 3) → matches → similarity: 1 + 3 × (1 + 1)
    expect(measure('{ identify(photoId: "p", topK: 3) { matches { similarity } } }').cost).toBe(7);
  });

  it('expands fragments and inline fragments, and ignores introspection', () => {
    const query = 'query Q { ...Root __schema { types { name fields { name } } } } fragment Root on Query { serverInfo { ... on ServerInfo { bundle } } }';
    expect(measure(query, {}, 'Q')).toEqual({ depth: 2, cost: 2 });
  });

  it('measures the named operation of a document with several', () => {
    const document = 'query A { serverInfo { bundle } } query B { subjects(first: 5) { totalCount } }';
    expect(measure(document, {}, 'B')).toEqual({ depth: 2, cost: 6 });
  });
});

describe('assertWithinLimits', () => {
  it('refuses queries over either limit with GRAPHQL_VALIDATION_FAILED', () => {
    expect(() => assertWithinLimits({ depth: 3, cost: 10 }, { maxDepth: 3, maxCost: 10 })).not.toThrow();
    expect(() => assertWithinLimits({ depth: 4, cost: 1 }, { maxDepth: 3, maxCost: 10 })).toThrow(/depth 4 is over the limit of 3/);
    expect(() => assertWithinLimits({ depth: 1, cost: 11 }, { maxDepth: 3, maxCost: 10 })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }) }),
    );
  });
});
