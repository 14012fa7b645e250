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

  export interface UploadOptions {
    readonly maxFieldSize?: number;
    readonly maxFileSize?: number;
    readonly maxFiles?: number;
  }
  export default function graphqlUploadExpress(options?: UploadOptions): RequestHandler;
}

declare module 'graphql-upload/processRequest.mjs' {
  import type { Readable } from 'node:stream';

  /** What an Upload scalar's value resolves to. */
  export interface FileUpload {
    readonly filename: string;
    readonly mimetype: string;
    readonly encoding: string;
    createReadStream(options?: { encoding?: BufferEncoding; highWaterMark?: number }): Readable;
  }
}
