import { randomUUID } from 'node:crypto';
import { sendToDlq } from '../../common/kafka/client';
import { replayDlq } from '../../common/kafka/dlq-replay';
import { collect, eventually, freshTopics, testKafka } from '../support/infra';

/** Parked messages go back to their source topic, as they were, once an operator asks. */
it('replays a DLQ to its source topic with the original key, value and headers, once per offset range', async () => {
  const { names } = await freshTopics('dlq_replay');
  const kafka = testKafka();
  const producer = kafka.producer();
  await producer.connect();
  const key = randomUUID();
  const failure = { error: '22021: invalid byte sequence', class: 'deterministic' as const };
  try {
    await sendToDlq(
      producer,
      names.statusPayments,
      { key: Buffer.from(`${key}-0`), value: Buffer.from('{"first":1}'), headers: { traceparent: 't' } },
      failure,
      { partition: 3, offset: '0' },
    );
    // A stub, as parked when the DLQ refused the whole message: only where it came from is known.
    const stub = { 'dlq-value-dropped': 'MESSAGE_TOO_LARGE', 'dlq-source-partition': '3', 'dlq-source-offset': '1' };
    await producer.send({
      topic: `${names.statusPayments}.dlq`,
      messages: [{ key: `${key}-1`, value: null, headers: stub }],
    });
    await sendToDlq(
      producer,
      names.statusPayments,
      { key: Buffer.from(`${key}-2`), value: Buffer.from('{"third":3}'), headers: { traceparent: 't' } },
      failure,
      { partition: 3, offset: '2' },
    );
  } finally {
    await producer.disconnect();
  }
  const source = await collect([names.statusPayments]);
  try {
    expect(await replayDlq(kafka, { topic: names.statusPayments, from: 0, dryRun: true })).toMatchObject({
      replayed: 2,
      next: 3,
    });
    const report = await replayDlq(kafka, { topic: names.statusPayments, from: 0, dryRun: false });
    expect(report).toEqual({
      replayed: 2,
      skipped: [{ offset: '1', sourcePartition: '3', sourceOffset: '1' }],
      next: 3,
    });
    await eventually('the replayed messages', () => (source.messages.length === 2 ? true : undefined));
    // Their keys differ, so they may land on different partitions: no order between them.
    const replayed = [...source.messages].sort((a, b) => a.key.localeCompare(b.key));
    expect(replayed.map((m) => [m.key, m.value])).toEqual([
      [`${key}-0`, { first: 1 }],
      [`${key}-2`, { third: 3 }],
    ]);
    expect(replayed[0]!.headers).toEqual({ traceparent: 't', 'dlq-replayed-from': '0' });
    expect(await replayDlq(kafka, { topic: names.statusPayments, from: report.next, dryRun: false })).toMatchObject({
      replayed: 0,
      next: 3,
    });
  } finally {
    await source.stop();
  }
});
