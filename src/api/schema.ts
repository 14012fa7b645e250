/** schema.graphql (the contract, at the package root) joined to its resolvers. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { findPackageRoot } from '../core/config.js';
import { keyResolvers } from './resolvers/keys.js';
import { meshResolvers } from './resolvers/meshes.js';
import { photoResolvers } from './resolvers/photos.js';
import { searchResolvers } from './resolvers/search.js';
import { subjectResolvers } from './resolvers/subjects.js';
import { scalarResolvers } from './scalars.js';

export function readSchemaSdl(): string {
  return readFileSync(join(findPackageRoot(), 'schema.graphql'), 'utf8');
}

export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: readSchemaSdl(),
    resolvers: [scalarResolvers, subjectResolvers, photoResolvers, searchResolvers, meshResolvers, keyResolvers],
    resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
  });
}
