import {
  fastRecordDecoder,
  loadRecordDecoder,
  type BatchContext,
  type KafkajsDecoder,
} from '../../common/kafka/record-decoder';
import { loadRecordEncoder, type RecordFields } from '../../common/kafka/record-encoder';
import { expectSwapsOnlyInTime, message } from '../support/kafkajs-swap';

/* eslint-disable @typescript-eslint/no-require-imports */
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => KafkajsDecoder;
const { CREATE_TIME, LOG_APPEND_TIME } = require('kafkajs/src/protocol/timestampTypes') as Record<string, number>;
/* eslint-enable @typescript-eslint/no-require-imports */

// Loaded before anything in this file installs the fast decoder: kafkajs' own, both ways.
const kafkajs = loadRecordDecoder();
const encode = loadRecordEncoder();
const fast = fastRecordDecoder(kafkajs);

/** A record's body as kafkajs' batch decoder hands it over: its length prefix read off. */
const bodyOf = (record: RecordFields): Buffer => {
  const encoded = encode(record);
  return new Decoder(encoded.buf.subarray(0, encoded.offset)).readVarIntBytes()!;
};

/** Both decoders on the same bytes: the records (or what each threw) and where each left its decoder. */
function decodeBoth(body: Buffer, context: BatchContext): { ours: unknown; theirs: unknown } {
  const mine = new Decoder(body);
  const theirsDecoder = new Decoder(body);
  const outcome = (decode: () => unknown): unknown => {
    try {
      return decode();
    } catch (e) {
      return { threw: String(e) };
    }
  };
  const ours = outcome(() => fast(mine, context));
  const theirs = outcome(() => kafkajs(theirsDecoder, context));
  expect(mine.offset).toBe(theirsDecoder.offset);
  return { ours, theirs };
}

/** Equal records, with their own properties (headers included) in the same order on the same prototype. */
function expectSameRecord(ours: unknown, theirs: unknown): void {
  expect(ours).toEqual(theirs);
  expect(Object.keys(ours as object)).toEqual(Object.keys(theirs as object));
  const headers = (r: unknown): object | undefined => (r as { headers?: object }).headers;
  expect(Object.keys(headers(ours) ?? {})).toEqual(Object.keys(headers(theirs) ?? {}));
  expect(Object.getPrototypeOf(headers(ours) ?? {})).toBe(Object.getPrototypeOf(headers(theirs) ?? {}));
}

const RECORDS: Array<[string, RecordFields]> = [
  ["this project's shape", message({})],
  ['a null key', message({ key: null })],
  ['a null value (a tombstone)', message({ value: null })],
  ['an empty key and value', message({ key: '', value: '' })],
  ['no headers', message({ headers: {} })],
  ['a repeated header', message({ headers: { a: ['1', '2'] } })],
  ['a header repeated three times', message({ headers: { a: ['1', '2', '3'], b: 'x' } })],
  ['headers named like Object.prototype members', message({ headers: { toString: 'x', constructor: 'y' } })],
  ['a header named __proto__', message({ headers: JSON.parse('{"__proto__":"x","a":"y"}') as Record<string, string> })],
  ['numeric header names', message({ headers: { '2': 'b', '1': 'a', z: 'c' } })],
  ['non-ASCII everywhere', message({ key: 'zahlung-ä-😀', value: 'wert-ß-€', headers: { 'schlüssel-é': 'wert-😀' } })],
  ['lone surrogates', message({ key: 'x\ud800', value: '\udc00y', headers: { '\ud800': '\udfff' } })],
  ['control characters', message({ key: '\u0000\u001f', value: '\u007f\n\r\t', headers: { '\u0001': '\u0000' } })],
  ['a 64 KB value', message({ value: Buffer.alloc(1 << 16, 7) })],
  [
    'twenty headers',
    message({ headers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`h${i}`, `v${i}`])) }),
  ],
  ...[0, 1, 2 ** 31 - 1, -(2 ** 31), 10_000_000].map((offsetDelta): [string, RecordFields] => [
    `offset delta ${offsetDelta}`,
    message({ offsetDelta }),
  ]),
  // Up to 2^48 the varlong takes at most seven bytes, the fast path's; beyond, kafkajs'.
  ...[0, 1, -1, 63, -64, 2 ** 31, -(2 ** 40), 2 ** 48 - 1, -(2 ** 48), 2 ** 48, 2 ** 53, -(2 ** 60)].map(
    (timestampDelta): [string, RecordFields] => [`timestamp delta ${timestampDelta}`, message({ timestampDelta })],
  ),
];

const CONTEXTS: Array<[string, BatchContext]> = [
  ['a topic of this project', { firstOffset: '1234567', firstTimestamp: '1764331200000', timestampType: CREATE_TIME }],
  ['the first batch of a partition', { firstOffset: '0', firstTimestamp: '0', timestampType: CREATE_TIME }],
  ['no timestamps (-1)', { firstOffset: '42', firstTimestamp: '-1', timestampType: CREATE_TIME }],
  [
    'broker time (LOG_APPEND_TIME)',
    {
      firstOffset: '7',
      firstTimestamp: '1764331200000',
      maxTimestamp: '1764331200999',
      timestampType: LOG_APPEND_TIME,
    },
  ],
  ['a control batch', { firstOffset: '9', firstTimestamp: '1764331200000', isControlBatch: true, magicByte: 2 }],
  ['offsets at 2^53 - 1', { firstOffset: String(2 ** 53 - 1), firstTimestamp: '1764331200000' }],
  ['offsets past 2^53', { firstOffset: '9223372036854775000', firstTimestamp: '1764331200000' }],
  ['timestamps past 2^53', { firstOffset: '5', firstTimestamp: '-9223372036854775808' }],
  ['no context at all (kafkajs throws)', {}],
];

describe('the fast record decoder', () => {
  describe.each(CONTEXTS)('in %s', (_, context) => {
    it.each(RECORDS)('makes the record kafkajs makes of %s', (__, record) => {
      const { ours, theirs } = decodeBoth(bodyOf(record), context);
      expectSameRecord(ours, theirs);
    });
  });

  it.each([
    ['a header key that is not UTF-8', Buffer.from([0, 24, 2, 0, 0, 2, 4, 0xff, 0xfe, 2, 0x41])],
    ['a null header value', Buffer.from([0, 24, 2, 0, 0, 2, 2, 0x61, 1])],
    ['a header count of -2, which kafkajs refuses', Buffer.from([0, 0, 0, 1, 1, 3])],
    ['a record cut short in its timestamp delta', Buffer.from([0, 0xff, 0xff])],
    ['a record cut short in its headers', Buffer.from([0, 24, 2, 0, 0, 6, 2, 0x61])],
    ['a varlong of ten bytes', Buffer.from([0, ...Array<number>(9).fill(0xff), 1, 0, 0, 0, 0])],
  ])('makes the record kafkajs makes of %s', (_, body) => {
    const context = CONTEXTS[0]![1];
    const { ours, theirs } = decodeBoth(body, context);
    expectSameRecord(ours, theirs);
  });

  it('hands kafkajs the decoder where the record starts when it falls back', () => {
    const seen: number[] = [];
    const delegating = fastRecordDecoder((d, c) => (seen.push(d.offset), kafkajs(d, c)));
    expect(() => delegating(new Decoder(Buffer.from([0, 0, 0, 1, 1, 3])), CONTEXTS[0]![1])).toThrow();
    expect(seen).toEqual([0]); // the header count of -2 that kafkajs refuses
  });

  // kafkajs copies the headers once per header (and a repeated key's list once per value): the
  // first two took it seconds per thousand headers, and a consumer met such a record again after
  // every restart. Gathered in one pass, they are the same record.
  const manyHeaders = (n: number, extra: Record<string, string | string[]>) =>
    message({
      headers: {
        ...(JSON.parse('{"__proto__":"p"}') as Record<string, string>),
        ...Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), ''])),
        ...extra,
      },
    });
  it.each([
    ['500 headers after one named __proto__, numbers past a double', manyHeaders(500, {}), { timestampDelta: 2 ** 60 }],
    ['a key repeated 500 times', message({ headers: { a: Array.from({ length: 500 }, String) } }), {}],
  ])('makes the record kafkajs makes of %s', (_, record, numbers) => {
    const { ours, theirs } = decodeBoth(bodyOf({ ...record, ...numbers }), CONTEXTS[0]![1]);
    expectSameRecord(ours, theirs);
  });

  it('gathers 20,000 headers, or one key 50,000 times, in one pass', () => {
    const wide = fast(new Decoder(bodyOf({ ...manyHeaders(20_000, {}), timestampDelta: 2 ** 60 })), CONTEXTS[0]![1]);
    expect(Object.keys((wide as { headers: object }).headers)).toHaveLength(20_001);
    const repeated = fast(
      new Decoder(bodyOf(message({ headers: { a: Array.from({ length: 50_000 }, String) } }))),
      CONTEXTS[0]![1],
    );
    expect((repeated as { headers: { a: Buffer[] } }).headers.a).toHaveLength(50_000);
  });

  it("is what kafkajs' record batch decoder decodes with once installed, and only then", () => {
    expectSwapsOnlyInTime({
      ours: 'common/kafka/record-decoder',
      install: 'useFastRecordDecoder',
      replaced: 'kafkajs/src/protocol/recordBatch/record/v0/decoder',
      loadedBy: 'kafkajs/src/protocol/recordBatch/v0/decoder',
      loadedEarlierBy: 'kafkajs/src/protocol/requests/fetch/v11/response',
    });
  });
});
