/**
 * graphql-upload 17 ships ESM with JSDoc types only, which TypeScript does not read from
 * node_modules; these declare the parts face3d uses, as its JSDoc documents them.
 */
declare module 'graphql-upload/GraphQLUpload.mjs' {
  import type { GraphQLScalarType } from 'graphql';

  const GraphQLUpload: GraphQLScalarType;
  export default GraphQLUpload;
}

declare module 'graphql-upload/graphqlUploadExpress.mjs' {
  import type { RequestHandler } from 'express';
  import type { ProcessRequestFunction, ProcessRequestOptions } from 'graphql-upload/processRequest.mjs';

  export interface UploadOptions extends ProcessRequestOptions {
    /** Parses the multipart request in place of graphql-upload's own processRequest. */
    readonly processRequest?: ProcessRequestFunction;
  }
  export default function graphqlUploadExpress(options?: UploadOptions): RequestHandler;
}

declare module 'graphql-upload/processRequest.mjs' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ProcessRequestOptions {
    readonly maxFieldSize?: number;
    readonly maxFileSize?: number;
    readonly maxFiles?: number;
  }

  /** The GraphQL operations (an object, or an array for a batch) with each mapped file's Upload in place. */
  export type ProcessRequestFunction = (request: IncomingMessage, response: ServerResponse, options?: ProcessRequestOptions) => Promise<Record<string, unknown> | Record<string, unknown>[]>;
}

declare module 'graphql-upload/Upload.mjs' {
  /** The value graphql-upload puts at each path of a multipart request's map. */
  export default class Upload {
    /** What the Upload scalar gives resolvers: the file, once `resolve` gives it, or `reject`'s error. */
    readonly promise: Promise<unknown>;
    resolve(file: unknown): void;
    reject(error: Error): void;
  }
}
