/**
 * kafkajs 2.2.4 encodes each record of a produce request through an `Encoder` of its own and one
 * more per header, each a zero-filled 512-byte buffer, and every varint through an array and a
 * `Buffer.from`: 5-12 µs and 1.5 KB of garbage per record here, for every message every service
 * sends. `fastRecordEncoder` writes the same bytes into one buffer of the record's exact size, in
 * about 2 µs (docs/performance.md, fourteenth round). Only for the kafkajs release the idle-timer
 * fix is made for (request-queue-fix.ts): another one's record may differ. Records of another
 * shape than this project's (header values that are lists, a key or value that is neither a
 * string nor a buffer, a timestamp delta past 32 bits) go to kafkajs' own encoder, so every record
 * is encoded as kafkajs would.
 */
import { kafkajsModuleSwap } from './kafkajs-module';

/** The part of kafkajs' private `Encoder` this writes through. */
interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}

/** A record as kafkajs' produce request hands it to `recordBatch/record/v0`. */
export interface RecordFields {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
}

type EncodeRecord = (record: RecordFields) => KafkajsEncoder;
/** kafkajs' `Encoder` class: its prototype (the `buffer` getter RecordBatch reads) and its varint size. */
interface EncoderClass {
  prototype: KafkajsEncoder;
  sizeOfVarInt(n: number): number;
}

// Through `require`: kafkajs' own module instances, which its produce request loads too.
/* eslint-disable @typescript-eslint/no-require-imports */
const RECORD_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/record/v0');
const PRODUCE_REQUEST_MODULE = require.resolve('kafkajs/src/protocol/requests/produce/v3/request');
const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;
/** What kafkajs' produce request will load as its record encoder: kafkajs' own until useFastRecordEncoder has run. */
export const loadRecordEncoder = (): EncodeRecord => require(RECORD_MODULE) as EncodeRecord;
/* eslint-enable @typescript-eslint/no-require-imports */

const zigZag = (n: number): number => (n << 1) ^ (n >> 31);

function writeVarInt(buf: Buffer, at: number, n: number): number {
  let v = zigZag(n);
  while ((v & 0xffffff80) !== 0) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

type Bytes = string | Buffer | null | undefined;

const isBytes = (v: unknown): v is Bytes => v == null || typeof v === 'string' || Buffer.isBuffer(v);
const isInt32 = (v: unknown): v is number => typeof v === 'number' && (v | 0) === v;
const byteLength = (v: Bytes): number => (v == null ? -1 : Buffer.isBuffer(v) ? v.length : Buffer.byteLength(v));
const fieldSize = (length: number): number => Encoder.sizeOfVarInt(length) + Math.max(length, 0);

function writeBytes(buf: Buffer, at: number, v: Bytes, length: number): number {
  at = writeVarInt(buf, at, length);
  if (v == null) return at;
  return at + (Buffer.isBuffer(v) ? v.copy(buf, at) : buf.write(v, at, length, 'utf8'));
}

/** A record in the shapes the fast path writes exactly as kafkajs does. */
interface FastRecord {
  offsetDelta: number;
  timestampDelta: number;
  key: Bytes;
  value: Bytes;
  headers: Array<[string, string | Buffer]>;
}

/** The record's fields if the fast path takes it; undefined leaves it to kafkajs' own encoder. */
function fastFields(r: RecordFields): FastRecord | undefined {
  // kafkajs defaults only what is undefined: a null delta or headers object is its own to refuse.
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = r;
  if (!isInt32(offsetDelta) || !isInt32(timestampDelta) || !isBytes(key) || !isBytes(value) || headers === null)
    return undefined;
  const entries = Object.entries(headers);
  // kafkajs refuses a null header value while sizing it; it is left to do so.
  if (!entries.every(([, v]) => typeof v === 'string' || Buffer.isBuffer(v))) return undefined;
  return { offsetDelta, timestampDelta, key, value, headers: entries as FastRecord['headers'] };
}

/** Record v0: length, attributes, timestamp delta, offset delta, key, value, headers (KIP-82), varints zigzagged. */
function writeRecord({ offsetDelta, timestampDelta, key, value, headers }: FastRecord): KafkajsEncoder {
  const keyLength = byteLength(key);
  const valueLength = byteLength(value);
  const headerLengths = headers.map(([k, v]) => [Buffer.byteLength(k), byteLength(v)] as const);
  let body = 1 + Encoder.sizeOfVarInt(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta);
  body += fieldSize(keyLength) + fieldSize(valueLength) + Encoder.sizeOfVarInt(headers.length);
  for (const [k, v] of headerLengths) body += fieldSize(k) + fieldSize(v);
  const total = Encoder.sizeOfVarInt(body) + body;
  // Every byte is written below, so the buffer need not be zeroed (kafkajs' constructor zeroes 512).
  const encoder = Object.create(Encoder.prototype) as KafkajsEncoder;
  const buf = (encoder.buf = Buffer.allocUnsafe(total));
  let at = writeVarInt(buf, 0, body);
  buf[at++] = 0; // attributes: none
  at = writeVarInt(buf, at, timestampDelta);
  at = writeVarInt(buf, at, offsetDelta);
  at = writeBytes(buf, at, key, keyLength);
  at = writeBytes(buf, at, value, valueLength);
  at = writeVarInt(buf, at, headers.length);
  headers.forEach(([k, v], i) => {
    at = writeBytes(buf, at, k, headerLengths[i]![0]);
    at = writeBytes(buf, at, v, headerLengths[i]![1]);
  });
  encoder.offset = at;
  return encoder;
}

/** The replacement: this project's records on the fast path, any other through kafkajs. */
export function fastRecordEncoder(kafkajs: EncodeRecord): EncodeRecord {
  return (r) => {
    const fields = fastFields(r);
    return fields ? writeRecord(fields) : kafkajs(r);
  };
}

/**
 * Puts `fastRecordEncoder` where kafkajs' produce request loads its record encoder from. It must
 * run before this process's first produce request is built (kafkajs loads that module then, and
 * keeps what it found): createKafka calls it. Returns whether the encoder is in place.
 */
export const useFastRecordEncoder = kafkajsModuleSwap(RECORD_MODULE, PRODUCE_REQUEST_MODULE, fastRecordEncoder);
