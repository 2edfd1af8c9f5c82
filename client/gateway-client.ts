import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphQLResponse<R> {
  status: number;
  data?: R | null;
  errors?: GraphQLErrorShape[];
}

/** A typed client for the gateway over real HTTP and graphql-ws, as an application would use it. */
export class GatewayClient {
  constructor(
    readonly httpUrl: string,
    readonly token?: string,
  ) {}

  get wsUrl(): string {
    return `${this.httpUrl.replace(/^http/, 'ws')}/graphql`;
  }

  /** `signal`: gives up waiting (AbortSignal.timeout); a mutation may still have happened. */
  async request<R, V>(
    document: TypedDocumentNode<R, V>,
    variables?: V,
    options: { signal?: AbortSignal } = {},
  ): Promise<GraphQLResponse<R>> {
    const res = await fetch(`${this.httpUrl}/graphql`, {
      method: 'POST',
      signal: options.signal,
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await res.json()) as Omit<GraphQLResponse<R>, 'status'>;
    return { status: res.status, ...body };
  }

  /** The data, or an error naming the GraphQL errors. */
  async data<R, V>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R> {
    const response = await this.request(document, variables);
    if (response.errors?.length || !response.data)
      throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
    return response.data;
  }

  /** One graphql-ws connection, authenticated in `connection_init`. */
  connect(options: { onClosed?: (code: number, reason: string) => void } = {}): Client {
    return createClient({
      url: this.wsUrl,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: this.token ? { authorization: `Bearer ${this.token}` } : {},
      on: {
        closed: (event) => {
          const e = event as { code?: number; reason?: string };
          options.onClosed?.(e.code ?? 0, String(e.reason ?? ''));
        },
      },
    });
  }
}

export interface Subscription<R> {
  events: R[];
  errors: unknown[];
  /** Resolves when the server completes the subscription (or it fails). */
  done: Promise<void>;
  stop(): void;
}

/** Subscribes and records every event; `done` settles when the server completes it. */
export function subscribe<R, V extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<R, V>,
  variables?: V,
): Subscription<R> {
  const events: R[] = [];
  const errors: unknown[] = [];
  let stop: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    stop = client.subscribe<R>(
      { query: print(document), variables },
      {
        next: (value) => {
          if (value.errors) errors.push(...value.errors);
          if (value.data) events.push(value.data as R);
        },
        error: (e) => {
          errors.push(e);
          resolve();
        },
        complete: resolve,
      },
    );
  });
  return { events, errors, done, stop: () => stop() };
}
