import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { IHeaders } from 'kafkajs';
import { describeFailure } from './failure-class';
import { headerString } from './kafka/client';

export type ServiceName = 'gateway' | 'paymaster' | 'money-storage';

export interface Tracing {
  /** Exports what is still buffered; part of a clean shutdown. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  service: ServiceName;
  /** Where finished spans go. Without one, spans are not recorded, but every one still has real ids for the logs. */
  exporter?: SpanExporter;
  /** `simple` exports each span as it ends (tests); `batch` in the background (services). */
  processing?: 'batch' | 'simple';
}

/**
 * Installs the process-wide context, propagator and tracer provider. Context propagation is on
 * even when nothing is exported, so every log line written while serving a request or a message
 * carries its trace id. Without an exporter the sampler records nothing: a span costs its ids only.
 */
export function installTracing(o: TracingOptions): Tracing {
  // Once per process: the API keeps the first registration, and tracers handed out before it follow it.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(W3C);
  const processor =
    o.exporter &&
    (o.processing === 'simple'
      ? new SimpleSpanProcessor({ exporter: o.exporter })
      : new BatchSpanProcessor({ exporter: o.exporter }));
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.service }),
    sampler: processor ? new ParentBasedSampler({ root: new AlwaysOnSampler() }) : new AlwaysOffSampler(),
    spanProcessors: processor ? [processor] : [],
  });
  trace.setGlobalTracerProvider(provider);
  return { shutdown: () => provider.shutdown() };
}

/** A service's tracing from the standard OTEL_* variables: OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
export function startTracing(service: ServiceName, env: NodeJS.ProcessEnv = process.env): Tracing {
  const exporting =
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) &&
    env.OTEL_TRACES_EXPORTER !== 'none';
  return installTracing({ service, exporter: exporting ? new OTLPTraceExporter() : undefined });
}

/** Spans of one service; the name is the instrumentation scope, so in-process tests can tell the services apart. */
export const tracerOf = (service: ServiceName): Tracer => trace.getTracer(service);

const W3C = new W3CTraceContextPropagator();

/** The trace context a W3C `traceparent` names; the root context when it is absent or malformed. */
function contextFromTraceparent(traceparent: string | undefined): Context {
  return traceparent ? W3C.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;
}

/** The `traceparent` that makes a message or request a child of `span`. */
export function traceparentOf(span: Span): string | undefined {
  const carrier: { traceparent?: string } = {};
  W3C.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/** The `traceparent` of whatever span is active here (a request, a message), if any. */
export function activeTraceparent(): string | undefined {
  const span = trace.getSpan(context.active());
  return span && isSpanContextValid(span.spanContext()) ? traceparentOf(span) : undefined;
}

/** Headers that make an outgoing request part of the active trace. */
export function traceHeaders(): { traceparent?: string } {
  const traceparent = activeTraceparent();
  return traceparent ? { traceparent } : {};
}

/** Trace and span id of the active span, for log lines. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const ids = trace.getSpan(context.active())?.spanContext();
  return ids && isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined;
}

/** Marks the span failed, with a short reason; whoever ends it ends it once. */
export function recordFailure(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: describeFailure(error).slice(0, 200) });
}

export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) recordFailure(span, error);
  span.end();
}

/** Runs `work` with a new span active, ending it (with the error, if any) when the work settles. */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  o: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = o.parent ?? context.active();
  const span = tracer.startSpan(name, { kind: o.kind ?? SpanKind.INTERNAL, attributes: o.attributes }, parent);
  try {
    const result = await context.with(trace.setSpan(parent, span), () => work(span));
    span.end();
    return result;
  } catch (e) {
    endSpan(span, e);
    throw e;
  }
}

/** Runs `work` with `span` active, so what it logs and queries belongs to that span. */
export const withSpan = <T>(span: Span, work: () => T): T => context.with(trace.setSpan(context.active(), span), work);

/** Runs `work` (and what it schedules) in no trace: for what speaks for many requests or messages at once. */
export const outsideAnyTrace = <T>(work: () => T): T => context.with(ROOT_CONTEXT, work);

/** A span for one consumed Kafka message: a child of the span whose `traceparent` its producer put in the headers. */
export function startMessageSpan(
  tracer: Tracer,
  topic: string,
  message: { headers?: IHeaders; offset: string },
  partition: number,
): Span {
  return tracer.startSpan(
    `${topic} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': String(partition),
        'messaging.kafka.offset': Number(message.offset),
      },
    },
    contextFromTraceparent(headerString(message.headers, 'traceparent')),
  );
}

/** Hands one consumed message on synchronously inside its span (the work that follows is traced through what it keeps). */
export function inMessageSpan<T>(
  tracer: Tracer,
  topic: string,
  message: { headers?: IHeaders; offset: string },
  partition: number,
  work: (span: Span) => T,
): T {
  const span = startMessageSpan(tracer, topic, message, partition);
  try {
    return withSpan(span, () => work(span));
  } finally {
    span.end();
  }
}

/** One span per message of a batch, open while the batch is processed together. */
export async function inMessageSpans<T>(
  tracer: Tracer,
  topic: string,
  partition: number,
  messages: Array<{ headers?: IHeaders; offset: string }>,
  work: (spans: Span[]) => Promise<T>,
): Promise<T> {
  const spans = messages.map((message) => startMessageSpan(tracer, topic, message, partition));
  try {
    const result = await work(spans);
    for (const span of spans) span.end();
    return result;
  } catch (e) {
    for (const span of spans) endSpan(span, e);
    throw e;
  }
}

/** Sends with a PRODUCER span whose context the messages carry, so their consumers continue this trace. */
export function inProducerSpan<T>(
  tracer: Tracer,
  topic: string,
  parent: string | undefined,
  send: (traceparent: string | undefined) => Promise<T>,
): Promise<T> {
  return inSpan(
    tracer,
    `${topic} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic },
      parent: contextFromTraceparent(parent),
    },
    (span) => send(traceparentOf(span)),
  );
}
