/**
 * graphql-ws operations in the metrics and the log, as observeRequests does for HTTP: each
 * subscribe message is counted when it ends (completed by either side, the socket closed, or
 * refused), by operation (its root field; "graphql" when refused before its operation is known,
 * as HTTP names it) and outcome (OK, or the typed code of the first error it sent), and leaves one
 * JSON line; the subscriptions running now are a gauge.
 */
import { performance } from 'node:perf_hooks';
import type { GraphQLFormattedError } from 'graphql';
import { getOperationAST } from 'graphql/utilities/getOperationAST.js';
import type { ServerOptions } from 'graphql-ws';
import { codeOfErrors, rootFieldOf } from './http.js';
import type { Logger } from './logging.js';
import type { Face3dMetrics } from './metrics.js';

type Hooks<E> = Pick<ServerOptions<Record<string, unknown>, E>, 'onSubscribe' | 'onNext' | 'onError' | 'onComplete'>;

interface Operation {
  readonly name: string;
  readonly started: number;
  /** Refused by onSubscribe: it ends with its error, never runs. */
  readonly refused: boolean;
  outcome: string;
}

/** `hooks` (onSubscribe, onNext, onError), observed: what they return is what graphql-ws sends. */
export function observeSubscriptions<E>(metrics: Face3dMetrics, logger: Logger, hooks: Omit<Hooks<E>, 'onComplete'>): Hooks<E> {
  // Per connection (graphql-ws's context), by the client's subscription id.
  const operations = new WeakMap<object, Map<string, Operation>>();
  const of = (ctx: object): Map<string, Operation> => {
    let open = operations.get(ctx);
    if (!open) operations.set(ctx, (open = new Map()));
    return open;
  };
  const end = (ctx: object, id: string, operation: Operation): void => {
    of(ctx).delete(id);
    if (!operation.refused) metrics.subscriptionsActive.dec();
    metrics.observeSubscription(operation.name, operation.outcome);
    const line = { transport: 'graphql-ws', operation: operation.name, outcome: operation.outcome, ms: Math.round((performance.now() - operation.started) * 10) / 10 };
    if (operation.outcome === 'INTERNAL') logger.error(line, 'subscription');
    else logger.info(line, 'subscription');
  };
  const noteErrors = (operation: Operation | undefined, errors: readonly GraphQLFormattedError[] | undefined): void => {
    if (operation && operation.outcome === 'OK') operation.outcome = codeOfErrors(errors);
  };
  return {
    onSubscribe: async (ctx, id, payload) => {
      const started = performance.now();
      let answer: Awaited<ReturnType<NonNullable<Hooks<E>['onSubscribe']>>>;
      try {
        answer = await hooks.onSubscribe?.(ctx, id, payload);
      } catch (error) {
        // graphql-ws closes the socket (4500); the operation ended there.
        end(ctx, id, { name: 'graphql', started, refused: true, outcome: 'INTERNAL' });
        throw error;
      }
      if (answer && 'document' in answer) {
        const operation = getOperationAST(answer.document, answer.operationName);
        of(ctx).set(id, { name: operation ? rootFieldOf(operation) : 'graphql', started, refused: false, outcome: 'OK' });
        metrics.subscriptionsActive.inc();
      } else {
        of(ctx).set(id, { name: 'graphql', started, refused: true, outcome: 'OK' });
      }
      return answer;
    },
    onNext: async (ctx, id, payload, args, result) => {
      const sent = (await hooks.onNext?.(ctx, id, payload, args, result)) ?? result;
      noteErrors(of(ctx).get(id), sent.errors);
      return sent;
    },
    onError: async (ctx, id, payload, errors) => {
      const sent = (await hooks.onError?.(ctx, id, payload, errors)) ?? errors.map((error) => error.toJSON());
      const operation = of(ctx).get(id);
      noteErrors(operation, sent);
      // A refused one gets no onComplete: its error is its end.
      if (operation?.refused) end(ctx, id, operation);
      return sent;
    },
    onComplete: (ctx, id) => {
      const operation = of(ctx).get(id);
      if (operation) end(ctx, id, operation);
    },
  };
}
