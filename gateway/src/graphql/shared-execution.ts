import {
  createSourceEventStream,
  execute,
  print,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';

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
  const results = new RecentResults(RECENT_EVENTS, RECENT_RESULTS);
  // The key of a query without operation name or variables, once per (shared) document rather
  // than one string per subscriber.
  const plainKeys = new WeakMap<DocumentNode, string>();
  const queryKey = (args: ExecutionArgs): string => {
    const variables = args.variableValues;
    if (args.operationName || (variables && Object.keys(variables).length > 0)) return keyOf(args);
    let key = plainKeys.get(args.document);
    if (key === undefined) plainKeys.set(args.document, (key = keyOf(args)));
    return key;
  };
  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream; // the subscription was refused: its errors
    return new SharedResults(stream[Symbol.asyncIterator](), args, queryKey(args), results);
  };
}

/**
 * How many events keep their results. An event reaches every subscriber within the same turn
 * unless one is behind on reading; such a one executes the event again. Held per event for as
 * long as the event object lived (StatusHub keeps the newest event of its last 50,000 payments),
 * results cost ~0.9 KB per payment, most of them long delivered.
 */
const RECENT_EVENTS = 1024;

/**
 * How many results are kept in all, whatever the events: a user whose subscriptions all differ
 * (an alias, an unused variable) makes one per subscription and event. Unbounded, 120 wide ones
 * of one user kept 6.4 MB an event and took the gateway's heap past 3 GB.
 */
const RECENT_RESULTS = 16_384;

/** Results by event and query, for the newest `eventLimit` events and at most `resultLimit` results. */
export class RecentResults {
  private readonly byEvent = new Map<object, Map<string, Result>>();
  private results = 0;

  constructor(
    private readonly eventLimit: number,
    private readonly resultLimit: number,
  ) {}

  get(event: object, query: string): Result | undefined {
    return this.byEvent.get(event)?.get(query);
  }

  set(event: object, query: string, result: Result): void {
    let byQuery = this.byEvent.get(event);
    if (!byQuery) {
      if (this.byEvent.size >= this.eventLimit) this.dropOldest();
      this.byEvent.set(event, (byQuery = new Map<string, Result>()));
    }
    byQuery.set(query, result);
    this.results += 1;
    while (this.results > this.resultLimit && this.byEvent.size > 1) this.dropOldest();
  }

  private dropOldest(): void {
    const [event, byQuery] = this.byEvent.entries().next().value as [object, Map<string, Result>];
    this.byEvent.delete(event);
    this.results -= byQuery.size;
  }
}

/** Operation name, query text and variables: what a subscriber's result depends on besides the event. */
const keyOf = (args: ExecutionArgs): string =>
  `${args.operationName ?? ''}\n${args.document.loc?.source.body ?? print(args.document)}\n${JSON.stringify(args.variableValues ?? {})}`;

/**
 * A subscription's source events mapped to their (shared) results. A class rather than closures:
 * one small object per subscriber, its methods on the prototype.
 *
 * Not an async generator: one suspended in `await source.next()` cannot be returned from, so an
 * unsubscribe would wait for the next event before the listener is removed.
 */
class SharedResults implements AsyncIterableIterator<ExecutionResult> {
  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
    private readonly query: string,
    private readonly results: RecentResults,
  ) {}

  next(): Promise<IteratorResult<ExecutionResult>> {
    return this.source.next().then((r) => this.step(r));
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    return { value: undefined, done: true };
  }

  async throw(e: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    throw e;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private async step(r: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> {
    return r.done ? { value: undefined, done: true } : { value: await this.resultOf(r.value), done: false };
  }

  private resultOf(payload: unknown): Result {
    if (typeof payload !== 'object' || payload === null) return execute({ ...this.args, rootValue: payload });
    let result = this.results.get(payload, this.query);
    if (!result) this.results.set(payload, this.query, (result = execute({ ...this.args, rootValue: payload })));
    return result;
  }
}
