import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fastRecordEncoder, loadRecordEncoder, type RecordFields } from '../../common/kafka/record-encoder';

// Loaded before anything in this file installs the fast encoder: kafkajs' own.
const kafkajs = loadRecordEncoder();
const fast = fastRecordEncoder(kafkajs);
const bytesOf = (encoder: { buf: Buffer; offset: number }): string =>
  encoder.buf.subarray(0, encoder.offset).toString('hex');

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const message = (over: Partial<RecordFields>): RecordFields => ({
  offsetDelta: 3,
  timestampDelta: 12,
  key: '3f1c2a4e-9b7d-4c1e-8f2a-6d5b4c3a2e1f',
  value: Buffer.from('{"version":1,"status":"PROCESSING"}'),
  headers: { 'event-id': 'e1b6c2d0-7f3a-4b8e-9c1d-2a3b4c5d6e7f', traceparent: TRACEPARENT },
  ...over,
});

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
    const script = `
      const encoder = require(${JSON.stringify(path.resolve(__dirname, '../../common/kafka/record-encoder'))});
      const before = encoder.loadRecordEncoder();
      const installed = encoder.useFastRecordEncoder();
      const loadedByProduce = require('kafkajs/src/protocol/recordBatch/record/v0');
      require('kafkajs/src/protocol/requests/produce/v3/request');
      console.log(JSON.stringify({ installed, replaced: loadedByProduce !== before, again: encoder.useFastRecordEncoder() }));`;
    const run = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      cwd: path.resolve(__dirname, '../..'),
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ installed: true, replaced: true, again: true });

    const late = `
      require('kafkajs/src/protocol/requests/produce/v3/request');
      console.log(require(${JSON.stringify(path.resolve(__dirname, '../../common/kafka/record-encoder'))}).useFastRecordEncoder());`;
    const lateRun = spawnSync(process.execPath, ['-e', late], {
      encoding: 'utf8',
      cwd: path.resolve(__dirname, '../..'),
    });
    expect(lateRun.stdout.trim()).toBe('false');
  });
});
