import { Counter, type Registry } from 'prom-client';
import type { Sender } from './self-healing-producer';

/**
 * Wraps the sender a service parks poison with, so `dlq_messages_total{topic}` counts every
 * message a DLQ acknowledged, whichever path parked it (sendToDlq is the only writer of `.dlq` topics).
 */
export function countingParked(sender: Sender, registry: Registry): Sender {
  const parked = new Counter({
    name: 'dlq_messages_total',
    help: 'Messages parked in a dead-letter topic by this service',
    labelNames: ['topic'],
    registers: [registry],
  });
  return {
    send: async (record) => {
      const metadata = await sender.send(record);
      if (record.topic.endsWith('.dlq')) parked.inc({ topic: record.topic }, record.messages.length);
      return metadata;
    },
    sendBatch: (batch) => sender.sendBatch(batch),
  };
}
