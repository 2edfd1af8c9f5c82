import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { connectDatabase } from '../../common/db';
import { traceRequest } from '../../common/http-tracing';
import { createLogger } from '../../common/logger';
import {
  activeTraceparent,
  inProducerSpan,
  inSpan,
  installTracing,
  startMessageSpan,
  tracerOf,
  type Tracing,
} from '../../common/tracing';
import { freshDatabase } from '../support/infra';

const PARENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN = 'b7ad6b7169203331';
const PARENT = `00-${PARENT_TRACE}-${PARENT_SPAN}-01`;
const tracer = tracerOf('gateway');

const named = (spans: ReadableSpan[], name: string): ReadableSpan => {
  const span = spans.find((s) => s.name === name);
  if (!span) throw new Error(`no span ${name} among ${spans.map((s) => s.name).join(', ')}`);
  return span;
};

describe('tracing, exporting to memory', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  beforeAll(() => {
    tracing = installTracing({ service: 'gateway', exporter, processing: 'simple' });
  });
  afterAll(() => tracing.shutdown());
  beforeEach(() => exporter.reset());

  it('continues a message producer trace and hands its own span on', async () => {
    let sent: string | undefined;
    await inProducerSpan(tracer, 'status-payments', PARENT, (traceparent) =>
      Promise.resolve(void (sent = traceparent)),
    );
    const span = named(exporter.getFinishedSpans(), 'status-payments publish');
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.spanContext().traceId).toBe(PARENT_TRACE);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(sent).toBe(`00-${PARENT_TRACE}-${span.spanContext().spanId}-01`);
  });

  it('starts a new trace when the parent is missing or malformed', async () => {
    for (const parent of [
      undefined,
      'garbage',
      `00-${'0'.repeat(32)}-${PARENT_SPAN}-01`,
      `00-${PARENT_TRACE}\u0000-${PARENT_SPAN}-01`,
    ]) {
      let sent: string | undefined;
      await inProducerSpan(tracer, 'payments', parent, (traceparent) => Promise.resolve(void (sent = traceparent)));
      expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(sent).not.toContain(PARENT_TRACE);
    }
  });

  it('makes a consumed message a child of the span in its traceparent header', () => {
    startMessageSpan(
      tracer,
      'money-operations',
      { headers: { traceparent: Buffer.from(PARENT) }, offset: '42' },
      3,
    ).end();
    const span = named(exporter.getFinishedSpans(), 'money-operations process');
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(span.attributes).toMatchObject({ 'messaging.destination.partition.id': '3', 'messaging.kafka.offset': 42 });
  });

  it('puts trace_id and span_id in every log line written inside a span, and none outside', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) =>
        done(void lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)),
    });
    const logger = createLogger('test', 'info', sink);
    let ids: string | undefined;
    await inSpan(tracer, 'work', {}, async () => {
      ids = activeTraceparent();
      logger.info('inside');
      await Promise.resolve();
      logger.child({ component: 'x' }).warn('after an await, from a child logger');
    });
    logger.info('outside');
    const [, traceId, spanId] = ids!.split('-');
    expect(lines[0]).toMatchObject({ msg: 'inside', trace_id: traceId, span_id: spanId });
    expect(lines[1]).toMatchObject({ msg: 'after an await, from a child logger', trace_id: traceId });
    expect(lines[2]!.trace_id).toBeUndefined();
  });

  // Whatever a producer put in the header, the message is processed: a bad parent starts a new trace.
  it.each([
    ['NUL inside', `00-${PARENT_TRACE}\u0000-${PARENT_SPAN}-01`],
    ['a lone surrogate', `00-${PARENT_TRACE}-${PARENT_SPAN}-0\ud800`],
    ['control characters', '\u0001\u001b[31m\u007f'],
    ['100 KB', `00-${PARENT_TRACE}-${PARENT_SPAN}-01`.padEnd(100_000, 'f')],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0xc3])],
    ['an empty repeated header', []],
  ])('starts a new trace for a message whose traceparent header holds %s', (_, header) => {
    const span = startMessageSpan(tracer, 'payments', { headers: { traceparent: header }, offset: '7' }, 0);
    span.end();
    expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.spanContext().traceId).not.toBe(PARENT_TRACE);
    expect(named(exporter.getFinishedSpans(), 'payments process').parentSpanContext).toBeUndefined();
  });

  it('answers a request whose traceparent is hostile, in a new trace', async () => {
    const server = http.createServer(
      (req, res) => void traceRequest(tracer, req, res, () => Promise.resolve(void res.end())),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const hostile = [
      'garbage',
      `00-${PARENT_TRACE}-${PARENT_SPAN}-01`.padEnd(8_000, '0'),
      `00-${PARENT_TRACE}-${PARENT_SPAN}-01\u00ff`,
    ];
    try {
      for (const traceparent of hostile) {
        const status = await new Promise<number | undefined>((resolve, reject) =>
          http
            .get({ port, host: '127.0.0.1', path: '/api/payments', headers: { traceparent } }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode));
            })
            .on('error', reject),
        );
        expect(status).toBe(200);
      }
      await new Promise((resolve) => setImmediate(resolve));
      const spans = exporter.getFinishedSpans();
      expect(spans).toHaveLength(hostile.length);
      for (const span of spans) expect(span.parentSpanContext).toBeUndefined();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('serves a request in a span continuing the caller traceparent; probes get none', async () => {
    const server = http.createServer(
      (req, res) => void traceRequest(tracer, req, res, () => Promise.resolve(void res.end(activeTraceparent() ?? ''))),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const inside = await (
        await fetch(`${base}/api/payments/5d3c2b1a-0000-4000-8000-000000000000`, { headers: { traceparent: PARENT } })
      ).text();
      await (await fetch(`${base}/healthz`)).text();
      const untraced = await (await fetch(`${base}/readyz`)).text();
      await new Promise((resolve) => setImmediate(resolve));
      const spans = exporter.getFinishedSpans();
      expect(spans.map((s) => s.name)).toEqual(['GET /api/payments/:id']);
      expect(spans[0]!.kind).toBe(SpanKind.SERVER);
      expect(spans[0]!.parentSpanContext?.spanId).toBe(PARENT_SPAN);
      expect(spans[0]!.attributes['http.response.status_code']).toBe(200);
      expect(inside).toBe(`00-${PARENT_TRACE}-${spans[0]!.spanContext().spanId}-01`);
      expect(untraced).toBe('');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('records each Postgres query inside a traced span, and nothing for queries outside one', async () => {
    const database = connectDatabase(await freshDatabase('tracing'), {}, 2, tracer);
    try {
      await database.pool.query('SELECT 1');
      await inSpan(tracer, 'request', {}, async () => {
        await database.pool.query('SELECT $1::int AS n', [1]);
        const client = await database.pool.connect();
        await client.query('BEGIN').finally(() => client.release());
      });
      const spans = exporter.getFinishedSpans();
      const request = named(spans, 'request');
      const queries = spans.filter((s) => s.name.startsWith('pg '));
      expect(queries.map((s) => s.name)).toEqual(['pg SELECT', 'pg BEGIN']);
      for (const q of queries) {
        expect(q.kind).toBe(SpanKind.CLIENT);
        expect(q.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
        expect(JSON.stringify(q.attributes)).not.toContain('$1');
      }
    } finally {
      await database.close();
    }
  });
});
