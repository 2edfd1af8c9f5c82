import { fastRecordEncoder, loadRecordEncoder, type RecordFields } from '../../common/kafka/record-encoder';
import { expectSwapsOnlyInTime, message } from '../support/kafkajs-swap';

// Loaded before anything in this file installs the fast encoder: kafkajs' own.
const kafkajs = loadRecordEncoder();
const fast = fastRecordEncoder(kafkajs);
const bytesOf = (encoder: { buf: Buffer; offset: number }): string =>
  encoder.buf.subarray(0, encoder.offset).toString('hex');

const RECORDS: Array<[string, RecordFields]> = [
  ["this project's shape", message({})],
  ['a null key', message({ key: null })],
  ['no key', message({ key: undefined })],
  ['a buffer key', message({ key: Buffer.from([0, 1, 2, 255]) })],
  ['a string value', message({ value: '{"a":1}' })],
  ['an empty value', message({ value: '' })],
  ['a null value (a tombstone)', message({ value: null })],
  ['no headers', message({ headers: {} })],
  ['headers left out', message({ headers: undefined })],
  ['buffer header values', message({ headers: { a: Buffer.from('x'), b: Buffer.alloc(0) } })],
  [
    'twenty headers',
    message({ headers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`h${i}`, `v${i}`])) }),
  ],
  ['non-ASCII everywhere', message({ key: 'zahlung-ä-😀', value: 'wert-ß-€', headers: { 'schlüssel-é': 'wert-😀' } })],
  ['lone surrogates', message({ key: 'x\ud800', value: '\udc00y', headers: { '\ud800': '\udfff' } })],
  ['control characters', message({ key: '\u0000\u001f', value: '\u007f\n\r\t', headers: { '\u0001': '\u0000' } })],
  ['a 1 MB value', message({ value: Buffer.alloc(1 << 20, 7) })],
  ['offset delta 10,000', message({ offsetDelta: 10_000 })],
  ['offset delta left out', message({ offsetDelta: undefined })],
  ...[0, 1, 63, 64, 8191, 8192, 2 ** 31 - 1, -1, -64, -65, -(2 ** 31)].map((timestampDelta): [string, RecordFields] => [
    `timestamp delta ${timestampDelta}`,
    message({ timestampDelta }),
  ]),
];

describe('the fast record encoder', () => {
  it.each(RECORDS)('writes the bytes kafkajs writes for %s', (_, record) => {
    const ours = fast(record);
    expect(bytesOf(ours)).toBe(bytesOf(kafkajs(record)));
    // Exactly the record: kafkajs copies `buffer` (up to `offset`) into the batch.
    expect(ours.offset).toBe(kafkajs(record).offset);
  });

  it.each([
    ['a header with a list of values', message({ headers: { a: ['1', '2'] } })],
    ['a timestamp delta past 32 bits', message({ timestampDelta: 2 ** 40 })],
  ])('leaves %s to kafkajs, which writes it', (_, record) => {
    const calls: RecordFields[] = [];
    const delegating = fastRecordEncoder((r) => (calls.push(r), kafkajs(r)));
    expect(bytesOf(delegating(record))).toBe(bytesOf(kafkajs(record)));
    expect(calls).toEqual([record]);
  });

  it.each([
    ['a null header value', message({ headers: { a: null } })],
    ['a fractional timestamp delta', message({ timestampDelta: 1.5 })],
    ['a null timestamp delta', message({ timestampDelta: null })],
    ['null headers', { ...message({}), headers: null as unknown as Record<string, unknown> }],
  ])('leaves %s to kafkajs, which refuses it as it always has', (_, record) => {
    expect(() => kafkajs(record)).toThrow();
    expect(() => fast(record)).toThrow();
  });

  it("is what kafkajs' produce request encodes with once installed, and only then", () => {
    expectSwapsOnlyInTime({
      ours: 'common/kafka/record-encoder',
      install: 'useFastRecordEncoder',
      replaced: 'kafkajs/src/protocol/recordBatch/record/v0',
      loadedBy: 'kafkajs/src/protocol/requests/produce/v3/request',
      loadedEarlierBy: 'kafkajs/src/protocol/requests/produce/v3/request',
    });
  });
});
