/**
 * The rules of graphql-ws at /graphql, the same as HTTP's: the validation rules (introspection
 * off in production), the operation guard (NUL, depth of input, ids, query depth and cost), the
 * rate limit (each connection_init and subscribe message takes a token from its key's bucket,
 * shared with HTTP), and errors formatted by the same formatter. Only subscriptions are served
 * here: queries and mutations go over HTTP, so there is one path for each and nothing to keep in
 * step twice. A connection whose key is revoked is closed within KEY_RECHECK_MS.
 */
import type { IncomingMessage } from 'node:http';
import { GraphQLError, OperationTypeNode, parse, specifiedRules, validate, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { getOperationAST } from 'graphql/utilities/getOperationAST.js';
import type { ServerOptions } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { ApiKeys } from '../auth/api-keys.js';
import type { Caller } from './auth.js';
import { createContext, type ApiServices } from './context.js';
import type { ErrorFormatter } from './errors.js';
import type { QueryLimits } from './limits.js';
import { checkOperation, documentNestingProblem, extraValidationRules, PARSE_OPTIONS } from './operation-guard.js';
import { rateBucketOf, type RateLimit } from './security.js';

/** How often open connections' keys are checked against the database (revocations by any process). */
export const KEY_RECHECK_MS = 2000;

/** graphql-ws's close code for a refused connection. */
const CLOSE_FORBIDDEN = 4403;
/** graphql-ws's code for too many connection_init messages, here for any over the rate limit. */
const CLOSE_TOO_MANY_REQUESTS = 4429;

export type Extra = { readonly socket: WebSocket; readonly request: IncomingMessage };

export interface SubscriptionRulesOptions {
  readonly schema: GraphQLSchema;
  readonly services: ApiServices;
  readonly limits: QueryLimits;
  readonly rateLimit: RateLimit;
  readonly format: ErrorFormatter;
  /** The base of photo and mesh URLs for this upgrade request. */
  readonly baseUrlOf: (request: IncomingMessage) => string;
  readonly authorizationOf: (connectionParams: Readonly<Record<string, unknown>> | undefined) => string | undefined;
  readonly logError: (error: unknown) => void;
}

function coded(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, originalError: error.originalError, extensions: { ...error.extensions, code } });
}

/**
 * Closes each socket whose key is no longer valid: the keys of all open subscriptions are checked
 * in one query every KEY_RECHECK_MS.
 */
class KeyWatch {
  private readonly keyOfSocket = new Map<WebSocket, string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly keys: ApiKeys,
    onError: (error: unknown) => void,
  ) {
    this.timer = setInterval(() => this.recheck().catch(onError), KEY_RECHECK_MS).unref();
  }

  watch(socket: WebSocket, keyId: string): void {
    if (!this.keyOfSocket.has(socket)) socket.once('close', () => this.keyOfSocket.delete(socket));
    this.keyOfSocket.set(socket, keyId);
  }

  private async recheck(): Promise<void> {
    if (this.keyOfSocket.size === 0) return;
    const valid = await this.keys.activeIds([...new Set(this.keyOfSocket.values())]);
    for (const [socket, keyId] of this.keyOfSocket) {
      if (!valid.has(keyId)) socket.close(CLOSE_FORBIDDEN, 'Forbidden: the API key was revoked');
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface SubscriptionRules {
  /** For graphql-ws's useServer. */
  readonly hooks: Pick<ServerOptions<Record<string, unknown>, Extra>, 'onSubscribe' | 'onNext' | 'onError'>;
  /**
   * A connection_init takes a token from its caller's bucket, as a subscribe message does: false
   * (the socket closed with 4429) when there is none left.
   */
  admit(caller: Caller, extra: Extra): boolean;
  /** Stops the key checks. */
  stop(): void;
}

export function subscriptionRules(options: SubscriptionRulesOptions): SubscriptionRules {
  const { schema, services, limits, rateLimit, format } = options;
  const rules = [...specifiedRules, ...extraValidationRules(!services.config.production)];
  const keyWatch = new KeyWatch(services.keys, options.logError);
  const formatAll = (errors: readonly GraphQLError[]) => errors.map((error) => format(error.toJSON(), error));
  const takeToken = (caller: Caller, extra: Extra) => rateLimit.take(rateBucketOf(caller, extra.request.socket.remoteAddress));
  const hooks: SubscriptionRules['hooks'] = {
    onSubscribe: async (ctx, _id, payload) => {
      const contextValue = await createContext(services, options.authorizationOf(ctx.connectionParams), options.baseUrlOf(ctx.extra.request));
      const refused = takeToken(contextValue.caller, ctx.extra);
      if (refused) return [new GraphQLError(refused.message, { extensions: { code: 'RATE_LIMITED' } })];
      const nesting = documentNestingProblem(payload.query);
      if (nesting) return [new GraphQLError(nesting, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
      let document: DocumentNode;
      try {
        document = parse(payload.query, PARSE_OPTIONS);
      } catch (error) {
        return [coded(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
      }
      const errors = validate(schema, document, rules);
      if (errors.length > 0) return errors.map((error) => coded(error, 'GRAPHQL_VALIDATION_FAILED'));
      if (getOperationAST(document, payload.operationName)?.operation !== OperationTypeNode.SUBSCRIPTION) {
        return [new GraphQLError('only subscriptions are served over WebSocket: send queries and mutations to POST /graphql', { extensions: { code: 'BAD_REQUEST' } })];
      }
      const variableValues = payload.variables ?? {};
      try {
        checkOperation(schema, document, payload.operationName, variableValues, limits);
      } catch (error) {
        return [error as GraphQLError];
      }
      if (contextValue.caller.principal) keyWatch.watch(ctx.extra.socket, contextValue.caller.principal.keyId);
      return { schema, document, operationName: payload.operationName, variableValues, contextValue };
    },
    onError: (_ctx, _id, _payload, errors) => formatAll(errors),
    onNext: (_ctx, _id, _payload, _args, result: ExecutionResult) => (result.errors ? { ...result, errors: formatAll(result.errors) } : result),
  };
  const admit = (caller: Caller, extra: Extra): boolean => {
    const refused = takeToken(caller, extra);
    if (refused) extra.socket.close(CLOSE_TOO_MANY_REQUESTS, `Too many requests: ${refused.message}`);
    return !refused;
  };
  return { hooks, admit, stop: () => keyWatch.stop() };
}
