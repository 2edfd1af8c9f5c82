import { createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from 'graphql';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * graphql-ws's `subscribe`, with one execution per event and query shared by every subscriber
 * that asked the same thing. graphql-js executes the selection set once per subscriber per event:
 * ten sockets of one user watching their payments made ten identical executions of each status
 * change, the largest share of the gateway's work per push with 10,000 subscribers.
 *
 * Sound only while a subscription's result depends on nothing but the event, the query and its
 * variables: the payload resolvers here read the root only, never the context (the caller is
 * checked once, when the subscription starts), and StatusHub hands the same event object to all.
 */
export function sharedExecutionSubscribe(): (
  args: ExecutionArgs,
) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const results = new WeakMap<object, Map<string, Result>>();
  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream; // the subscription was refused: its errors
    const source = stream[Symbol.asyncIterator]();
    const query = `${args.operationName ?? ''}\n${args.document.loc?.source.body ?? print(args.document)}\n${JSON.stringify(args.variableValues ?? {})}`;
    return mapIterator(source, (payload) => {
      if (typeof payload !== 'object' || payload === null) return execute({ ...args, rootValue: payload });
      let byQuery = results.get(payload);
      if (!byQuery) results.set(payload, (byQuery = new Map<string, Result>()));
      let result = byQuery.get(query);
      if (!result) byQuery.set(query, (result = execute({ ...args, rootValue: payload })));
      return result;
    });
  };
}

/**
 * Not an async generator: one suspended in `await source.next()` cannot be returned from, so an
 * unsubscribe would wait for the next event before the listener is removed.
 */
function mapIterator<T, U>(source: AsyncIterator<T>, map: (value: T) => U | Promise<U>): AsyncIterableIterator<U> {
  return {
    async next() {
      const r = await source.next();
      return r.done ? { value: undefined, done: true } : { value: await map(r.value), done: false };
    },
    return: async () => {
      await source.return?.();
      return { value: undefined, done: true };
    },
    throw: async (e: unknown) => {
      await source.return?.();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
