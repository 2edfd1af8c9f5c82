import { createHash } from 'node:crypto';
import { Partitioners, type PartitionerArgs, type PartitionMetadata } from 'kafkajs';
import { keyPartitioner, murmur2 } from '../../common/kafka/key-partitioner';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;

/** Deterministic bytes of any length: the SHA-256 chain of `seed`. */
function bytes(seed: number, length: number): Buffer {
  const out: Buffer[] = [];
  for (let block = createHash('sha256').update(String(seed)).digest(); out.length * 32 < length;) {
    out.push(block);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat(out).subarray(0, length);
}

const STRING_KEYS: Array<[string, string]> = [
  ['empty', ''],
  ['one byte', 'a'],
  ['two bytes', 'ab'],
  ['three bytes', 'abc'],
  ['four bytes', 'abcd'],
  ['a payment id', '3f1c2a4e-9b7d-4c1e-8f2a-6d5b4c3a2e1f'],
  ['two-byte characters', 'zahlung-ä-ö-ü'],
  ['an emoji', 'pay-😀'],
  ['a lone high surrogate', 'x\ud800y'],
  ['a lone low surrogate', '\udc00'],
  ['control characters', '\u0000\u0001\u001f\u007f\n\r\t'],
  ['a long key', 'k'.repeat(10_000)],
];

const metadata = (partitions: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    replicas: [0],
    isr: [0],
  }));

const args = (message: PartitionerArgs['message'], partitions: PartitionMetadata[]): PartitionerArgs => ({
  topic: 'payments',
  partitionMetadata: partitions,
  message,
});

describe('murmur2', () => {
  // The Java client's own vectors (UtilsTest.testMurmur2).
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])("hashes %j as Kafka's Java client does", (key, hash) => {
    expect(murmur2(key)).toBe(hash);
    expect(murmur2(Buffer.from(key))).toBe(hash);
  });

  it.each(STRING_KEYS)('agrees with kafkajs on %s', (_, key) => {
    expect(murmur2(key)).toBe(kafkajsMurmur2(key));
  });

  it('agrees with kafkajs on binary keys of every length up to 300 bytes', () => {
    const keys = Array.from({ length: 301 }, (_, length) => bytes(length, length));
    expect(keys.map((key) => murmur2(key))).toEqual(keys.map((key) => kafkajsMurmur2(key)));
  });
});

describe('keyPartitioner', () => {
  it.each([1, 3, 8, 16])('sends every key to the partition kafkajs picks, over %i partitions', (count) => {
    // Leaderless partitions still count, as in kafkajs and the Java client: a key keeps its partition.
    const partitions = metadata(count, count > 1 ? [0] : []);
    const ours = keyPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys = [...STRING_KEYS.map(([, key]) => key), ...Array.from({ length: 200 }, (_, i) => bytes(i, 36))];
    for (const key of keys) {
      const message = { key, value: 'v' };
      expect(ours(args(message, partitions))).toBe(theirs(args(message, partitions)));
    }
  });

  it("keeps a message's own partition, 0 included", () => {
    const choose = keyPartitioner();
    expect(choose(args({ key: 'k', value: 'v', partition: 0 }, metadata(8)))).toBe(0);
    expect(choose(args({ key: 'k', value: 'v', partition: 5 }, metadata(8)))).toBe(5);
  });

  it('spreads keyless messages over the partitions that have a leader', () => {
    const choose = keyPartitioner();
    const partitions = metadata(4, [1, 3]);
    const chosen = new Set(Array.from({ length: 20 }, () => choose(args({ value: 'v' }, partitions))));
    expect([...chosen].sort()).toEqual([0, 2]);
  });
});
