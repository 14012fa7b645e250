import { describe, expect, it } from '@jest/globals';
import { getIntrospectionQuery, parse } from 'graphql';
import { buildSchema } from '../../../src/api/schema.js';
import { assertWithinLimits, FIELD_COSTS, measureOperation } from '../../../src/api/limits.js';
import { documentNesting, MAX_DOCUMENT_NESTING, MAX_QUERY_TOKENS, PARSE_OPTIONS } from '../../../src/api/operation-guard.js';

const schema = buildSchema();
const DEFAULT_MAX_COST = 5000;

function measure(query: string, variables: Record<string, unknown> = {}, operationName?: string) {
  return measureOperation(schema, parse(query), operationName, variables);
}

const aliases = (count: number, field: string) => Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');

describe('measureOperation', () => {
  it('counts nesting depth from the root fields', () => {
    expect(measure('{ serverInfo { bundle } }').depth).toBe(2);
    expect(measure('{ subjects { edges { node { photos { edges { node { face { vector { shape } } } } } } } } }').depth).toBe(9);
  });

  it('multiplies the list right under a paged field by its page size, schema defaults included', () => {
    // subjects(first: 20 by default) → edges (the list) → node → id: 1 + 1 + 20 × (1 + 1)
    expect(measure('{ subjects { edges { node { id } } } }').cost).toBe(42);
    expect(measure('query($n: Int) { subjects(first: $n) { edges { node { id } } } }', { n: 2 }).cost).toBe(6);
    // identify(topK: 3) → matches (the list) → similarity: (1 + inference) + 1 + 3 × 1
    expect(measure('{ identify(photoId: "p", topK: 3) { matches { similarity } } }').cost).toBe(1 + FIELD_COSTS.inference + 1 + 3);
  });

  it('charges inference, meshes and scans what they cost, once per alias', () => {
    expect(measure(`{ ${aliases(6, 'identify(photoId: "p") { unknown }')} }`).cost).toBeGreaterThan(DEFAULT_MAX_COST);
    expect(measure(`{ ${aliases(5, 'identify(photoId: "p") { unknown }')} }`).cost).toBeLessThanOrEqual(DEFAULT_MAX_COST);
    expect(measure(`{ ${aliases(3, 'verify(a: { photoId: "p" }, b: { photoId: "q" }) { match }')} }`).cost).toBeGreaterThan(DEFAULT_MAX_COST);
    expect(measure(`{ subject(id: "s") { ${aliases(30, 'mesh(format: OBJ) { bytes }')} } }`).cost).toBeGreaterThan(DEFAULT_MAX_COST);
    expect(measure(`{ ${aliases(60, 'subjects(first: 1, search: "x") { totalCount }')} }`).cost).toBeGreaterThan(DEFAULT_MAX_COST);
    // Without a search, a page of subjects is no scan; its totalCount is one, counted once per page, not per item.
    expect(measure('{ subjects(first: 100) { totalCount edges { node { id } } } }').cost).toBe(1 + (1 + FIELD_COSTS.scan) + 1 + 100 * 2);
  });

  it('costs introspection at this schema’s sizes: a full introspection fits, thousands of copies do not', () => {
    const full = measure(getIntrospectionQuery());
    expect(full.cost).toBeGreaterThan(50);
    expect(full.cost).toBeLessThanOrEqual(DEFAULT_MAX_COST);
    expect(measure(`{ ${aliases(200, '__schema { types { name fields { name } } }')} }`).cost).toBeGreaterThan(DEFAULT_MAX_COST);
  });

  it('expands fragments and inline fragments', () => {
    const query = 'query Q { ...Root } fragment Root on Query { serverInfo { ... on ServerInfo { bundle } } }';
    expect(measure(query, {}, 'Q')).toEqual({ depth: 2, cost: 2 });
  });

  it('measures the named operation of a document with several', () => {
    const document = 'query A { serverInfo { bundle } } query B { subjects(first: 5) { totalCount } }';
    expect(measure(document, {}, 'B')).toEqual({ depth: 2, cost: 2 + FIELD_COSTS.scan });
  });

  it('gets documents short enough to measure: a full introspection parses, a 1 MB alias flood does not', () => {
    expect(() => parse(getIntrospectionQuery(), PARSE_OPTIONS)).not.toThrow();
    expect(() => parse(`{ ${aliases(MAX_QUERY_TOKENS, '__typename')} }`, PARSE_OPTIONS)).toThrow(/contains more tha[nt] 10000 tokens/);
  });
});

describe('documentNesting', () => {
  it('counts brackets of every kind, outside strings, block strings and comments', () => {
    expect(documentNesting('{ a(b: [{ c: 1 }]) { d } }')).toBe(4);
    expect(documentNesting('{ a(b: "{[({[(", c: """ {{{{ \\""" {{{ """) # {{{{{{\n { d } }')).toBe(2);
    expect(documentNesting('{ a(b: "escaped \\" {{{{") }')).toBe(2);
  });

  it('leaves room for every real operation: a full introspection, the deepest query the depth limit allows', () => {
    expect(documentNesting(getIntrospectionQuery())).toBeLessThan(MAX_DOCUMENT_NESTING / 4);
    expect(documentNesting(`{ ${'a { '.repeat(100)}b${' }'.repeat(100)} }`)).toBeLessThan(MAX_DOCUMENT_NESTING);
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
