/**
 * kafkajs 2.2.4 decodes each fetched record's offset and timestamp by parsing the batch's first
 * offset and first timestamp from decimal strings into `Long`s, adding the deltas and printing them
 * back (two parses and two prints per record), reads the timestamp delta through `Long` arithmetic
 * (four objects per byte), and gathers the headers by copying the object once per header. That is
 * every message every consumer of this project reads. `fastRecordDecoder` returns the same record
 * with plain numbers where they are exact (docs/performance.md, fifteenth round), through `Long` as
 * kafkajs does where they are not (a timestamp delta past 49 bits, an offset past 2^53), so every
 * record is what kafkajs would have made. Its headers are gathered in one pass: kafkajs' copy per
 * header, and a repeated key's list copied per value, took 28 s of a consumer's event loop for one
 * 49 KB record of 10,000 headers, and the record came back after every restart. Only for the
 * kafkajs release the other fixes are made for (request-queue-fix.ts).
 */
import { kafkajsModuleSwap } from './kafkajs-module';

/** The part of kafkajs' private `Decoder` this reads through. */
export interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarLong(): unknown;
  readVarIntBytes(): Buffer | null;
  readVarIntString(): string | null;
}

/** What kafkajs' record batch decoder hands to each record. */
export interface BatchContext {
  firstOffset?: string;
  firstTimestamp?: string;
  maxTimestamp?: string;
  timestampType?: number;
  magicByte?: number;
  isControlBatch?: boolean;
}

export type DecodeRecord = (decoder: KafkajsDecoder, batchContext?: BatchContext) => unknown;

// Through `require`: kafkajs' own module instances, which its fetch responses load too.
/* eslint-disable @typescript-eslint/no-require-imports */
const RECORD_DECODER_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder');
const BATCH_DECODER_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/v0/decoder');
const { LOG_APPEND_TIME } = require('kafkajs/src/protocol/timestampTypes') as { LOG_APPEND_TIME: number };
const Long = require('kafkajs/src/utils/long') as {
  fromValue(v: unknown): { add(n: unknown): { toString(): string } };
};
/** What kafkajs' record batch decoder will load: kafkajs' own until useFastRecordDecoder has run. */
export const loadRecordDecoder = (): DecodeRecord => require(RECORD_DECODER_MODULE) as DecodeRecord;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Seven bytes of varint are 49 bits: exact in a double, where eight (56) may not be after zigzag. */
const MAX_EXACT_VARLONG_BYTES = 7;

/** A zigzagged varlong as a number, or undefined where a double could not hold it exactly. */
function readVarLong(d: KafkajsDecoder): number | undefined {
  let result = 0;
  for (let i = 0; i < MAX_EXACT_VARLONG_BYTES; i++) {
    const byte = d.buffer[d.offset++];
    if (byte === undefined) return undefined;
    result += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }
  return undefined;
}

/** `base` (a decimal string, as kafkajs carries 64-bit numbers) plus `delta`, printed as Long prints it; undefined where a double is not exact. */
function plus(base: string | undefined, delta: number): string | undefined {
  const n = Number(base);
  const sum = n + delta;
  return Number.isSafeInteger(n) && Number.isSafeInteger(sum) && String(n) === base ? String(sum) : undefined;
}

const OWN = { writable: true, enumerable: true, configurable: true };

/** Headers as kafkajs gathers them, in one pass: a repeated key's values become a list. */
function readHeaders(d: KafkajsDecoder): Record<string, unknown> | undefined {
  const count = d.readVarInt();
  // kafkajs reads -1 as no headers and refuses any other negative count (an array of that length).
  if (count < -1) return undefined;
  const headers: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const key = String(d.readVarIntString());
    const value = d.readVarIntBytes();
    const seen = headers[key];
    const next = seen === undefined ? value : Array.isArray(seen) ? (seen.push(value), seen) : [seen, value];
    // kafkajs builds each step with a computed key in a literal, which makes an own property and
    // never sets the prototype.
    if (key === '__proto__') Object.defineProperty(headers, key, { value: next, ...OWN });
    else headers[key] = next;
  }
  return headers;
}

/** Timestamp and offset through `Long`, in kafkajs' order (and with its errors), where a double is not exact. */
function longNumbers(d: KafkajsDecoder, context: BatchContext): { timestamp: string; offset: string } {
  const delta = d.readVarLong();
  const { timestampType, maxTimestamp } = context;
  const timestamp =
    timestampType === LOG_APPEND_TIME && maxTimestamp
      ? maxTimestamp
      : Long.fromValue(context.firstTimestamp).add(delta).toString();
  const offset = Long.fromValue(context.firstOffset).add(d.readVarInt()).toString();
  return { timestamp, offset };
}

/** The replacement: kafkajs' own decoder only for a header count it refuses (its error, as it throws it). */
export function fastRecordDecoder(kafkajs: DecodeRecord): DecodeRecord {
  return (decoder, batchContext = {}) => {
    const start = decoder.offset;
    const {
      firstOffset,
      firstTimestamp,
      magicByte,
      isControlBatch = false,
      timestampType,
      maxTimestamp,
    } = batchContext;
    const attributes = decoder.readInt8();
    const numbersAt = decoder.offset;
    const timestampDelta = readVarLong(decoder);
    const appendTime = timestampType === LOG_APPEND_TIME && maxTimestamp;
    let timestamp =
      timestampDelta === undefined ? undefined : appendTime ? maxTimestamp : plus(firstTimestamp, timestampDelta);
    let offset = timestamp === undefined ? undefined : plus(firstOffset, decoder.readVarInt());
    if (timestamp === undefined || offset === undefined) {
      decoder.offset = numbersAt;
      ({ timestamp, offset } = longNumbers(decoder, batchContext));
    }
    const key = decoder.readVarIntBytes();
    const value = decoder.readVarIntBytes();
    const headers = readHeaders(decoder);
    if (!headers) return fallBack();
    return {
      magicByte,
      attributes,
      timestamp,
      offset,
      key,
      value,
      headers,
      isControlRecord: isControlBatch,
      batchContext,
    };

    function fallBack(): unknown {
      decoder.offset = start;
      return kafkajs(decoder, batchContext);
    }
  };
}

/**
 * Puts `fastRecordDecoder` where kafkajs' record batch decoder loads its record decoder from. It
 * must run before this process's first fetch response is decoded (kafkajs loads that module then,
 * and keeps what it found): createKafka calls it. Returns whether the decoder is in place.
 */
export const useFastRecordDecoder = kafkajsModuleSwap(RECORD_DECODER_MODULE, BATCH_DECODER_MODULE, fastRecordDecoder);
