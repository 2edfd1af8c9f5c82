import type { Admin, Broker, Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import { createKafka, toKafkaMessage } from '../../common/kafka/client';
import { ignoreStall } from '../../common/kafka/consumer-watchdog';
import type { Ticket } from '../../common/kafka/inflight-offsets';
import type { PaymentConductor, Publisher } from '../../paymaster/src/payment-conductor';
import { PaymentsIntake, type IntakeOptions } from '../../paymaster/src/payments-intake';
import { eventually, freshTopics, kafkaBrokers, testKafka, uniqueName } from '../support/infra';
import { payment, quietLogger, testProducer } from './helpers';

// kafkajs internals, to stage the broker layout and the timing below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { KafkaJSProtocolError } = require('kafkajs/src/errors') as { KafkaJSProtocolError: new (e: unknown) => Error };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as {
  createErrorFromCode: (code: number) => unknown;
};

const NOT_LEADER_FOR_PARTITION = 6;
/** A second broker that exists only in the intake's view of the cluster: it leads partition 0. */
const OTHER_NODE = '9999';

interface PartitionMetadata {
  partitionId: number;
  leader: number;
}
interface FetchResponse {
  responses: Array<{ topicName: string; partitions: Array<{ partition: number; messages: unknown[] }> }>;
}
interface ClusterInternals {
  getNodeIds(): string[];
  findBroker(o: { nodeId: string | number }): Promise<Broker>;
  findTopicPartitionMetadata(topic: string): PartitionMetadata[];
}

/**
 * What one paymaster's kafkajs sees of a cluster where partition 0 of `topic` is led by another
 * broker than the rest (kafkajs then runs one fetch loop per broker). Both are the one real broker.
 * `holdNextFetchOfPartition0` keeps the next fetch answer carrying partition 0's messages from
 * kafkajs until released; `failNextFetchOfOthers` makes the other loop's next fetch fail with
 * NOT_LEADER_FOR_PARTITION, after which kafkajs (consumerGroup.recoverFromFetch) joins the group
 * again from inside that loop, while the held fetch is still out.
 */
function twoBrokerView(kafka: Kafka, topic: string) {
  let hold: { captured: () => void; released: Promise<void> } | undefined;
  const releases: Array<() => void> = [];
  let failNext = false;
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')!;
  const k = kafka as unknown as Record<symbol, (o: unknown) => ClusterInternals>;
  const createCluster = k[symbol]!;
  k[symbol] = (options) => {
    const cluster = createCluster(options);
    const { getNodeIds, findBroker, findTopicPartitionMetadata } = {
      getNodeIds: cluster.getNodeIds.bind(cluster),
      findBroker: cluster.findBroker.bind(cluster),
      findTopicPartitionMetadata: cluster.findTopicPartitionMetadata.bind(cluster),
    };
    const realNode = () => getNodeIds().find((id) => id !== OTHER_NODE)!;
    cluster.getNodeIds = () => {
      const ids = getNodeIds();
      return ids.length === 0 ? ids : [...ids, OTHER_NODE];
    };
    cluster.findTopicPartitionMetadata = (t) =>
      findTopicPartitionMetadata(t).map((m) =>
        t === topic && m.partitionId === 0 ? { ...m, leader: Number(OTHER_NODE) } : m,
      );
    cluster.findBroker = async ({ nodeId }) => {
      const other = String(nodeId) === OTHER_NODE;
      const broker = await findBroker({ nodeId: other ? realNode() : nodeId });
      const fetch = async (request: unknown): Promise<FetchResponse> => {
        if (!other && failNext) {
          failNext = false;
          throw new KafkaJSProtocolError(createErrorFromCode(NOT_LEADER_FOR_PARTITION));
        }
        const answer = (await broker.fetch(request as never)) as FetchResponse;
        const carries0 = answer.responses.some((r) =>
          r.partitions.some((p) => p.partition === 0 && p.messages.length > 0),
        );
        if (other && hold && carries0) {
          const { captured, released } = hold;
          hold = undefined;
          captured();
          await released;
        }
        return answer;
      };
      return new Proxy(broker, {
        get: (target, key) => {
          if (key === 'fetch') return fetch;
          const v = Reflect.get(target, key) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    };
    return cluster;
  };
  return {
    holdNextFetchOfPartition0(): { captured: Promise<void>; release: () => void } {
      let release!: () => void;
      let captured!: () => void;
      const capturedP = new Promise<void>((r) => (captured = r));
      hold = { captured, released: new Promise<void>((r) => (release = r)) };
      releases.push(() => release());
      return { captured: capturedP, release };
    },
    /** Lets every held answer go, so a failed test does not leave kafkajs waiting on one. */
    releaseAll(): void {
      releases.forEach((release) => release());
    },
    failNextFetchOfOthers(): void {
      failNext = true;
    },
  };
}

/** Holds every payment (nothing finishes), recording the offsets of partition 0 it was given. */
function holdingConductor() {
  const held = new Map<Ticket, true>();
  const taken: number[] = [];
  const conductor = {
    get size() {
      return held.size;
    },
    start: (_payment: unknown, _traceparent: unknown, ticket: Ticket) => {
      if (ticket.partition === 0) taken.push(ticket.offset);
      held.set(ticket, true);
    },
    abandon: (which: (t: Ticket) => boolean = () => true) => {
      let n = 0;
      for (const t of [...held.keys()])
        if (which(t)) {
          held.delete(t);
          n++;
        }
      return n;
    },
  } as unknown as PaymentConductor;
  return { conductor, taken };
}

describe('the payments intake after a batch fetched generations ago', () => {
  it('conducts again what the partition’s last owner abandoned, when that batch reaches it first', async () => {
    const { names } = await freshTopics('stale_batch');
    const groupId = uniqueName('stale-batch');
    const producer = await testProducer();
    const admin: Admin = testKafka().admin();
    await admin.connect();
    const toPartition0 = async (n: number) => {
      const messages = Array.from({ length: n }, () => {
        const p = payment('1');
        return { ...toKafkaMessage('payments', { key: p.paymentId, value: p }), partition: 0 };
      });
      await producer.send({ topic: names.payments, acks: -1, messages });
    };
    const groupState = async () => (await admin.describeGroups([groupId])).groups[0]?.state;

    // The intake's member id sorts after the other member's (round robin gives the first one
    // partition 0), and its heartbeats are far apart: it learns of each rebalance only through
    // the fetch error staged below, never through a heartbeat.
    const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'zz-paymaster', logger: quietLogger() });
    const view = twoBrokerView(kafka, names.payments);
    const consumerOf = kafka.consumer.bind(kafka);
    kafka.consumer = (config: ConsumerConfig) =>
      consumerOf({ ...config, sessionTimeout: 300_000, heartbeatInterval: 240_000, rebalanceTimeout: 60_000 });
    const { conductor, taken } = holdingConductor();
    const options = {
      consumers: { kafka, stallMs: 600_000, commitIntervalMs: 100, onStall: ignoreStall, logger: quietLogger() },
      names,
      groupId,
      maxInFlight: 1000,
      conductor,
      producer,
      publisher: { publish: () => Promise.resolve() } as unknown as Publisher,
      logger: quietLogger(),
      admin,
    };
    const intake = new PaymentsIntake(options satisfies IntakeOptions);
    const other: Consumer = createKafka({
      brokers: kafkaBrokers(),
      clientId: 'aa-other',
      logger: quietLogger(),
    }).consumer({
      groupId,
      maxWaitTimeInMs: 100,
    });
    try {
      // Generation N: the intake alone; it holds partition 0's offsets 0..9 and has a fetch from
      // 10 out, whose answer (10..19) is kept from kafkajs.
      await intake.start();
      await eventually('the intake to own partition 0', () => (intake.owns(0) ? true : undefined));
      await toPartition0(10);
      await eventually('offsets 0..9 taken', () => (taken.length === 10 ? true : undefined));
      const held = view.holdNextFetchOfPartition0();
      await toPartition0(10);
      await held.captured;

      // Generation N+1: another member joins and gets partition 0; the intake abandons 0..9.
      await other.connect();
      await other.subscribe({ topic: names.payments, fromBeginning: true });
      const otherRunning = other.run({ autoCommit: false, eachBatch: () => Promise.resolve() });
      await eventually('the group to rebalance', async () =>
        (await groupState()) === 'PreparingRebalance' ? true : undefined,
      );
      view.failNextFetchOfOthers();
      await eventually('partition 0 to move to the other member', () => (intake.owns(0) ? undefined : true));
      await otherRunning;

      // Generation N+2: the other member leaves before finishing anything; partition 0 comes back.
      await other.disconnect();
      await eventually('the group to rebalance', async () =>
        (await groupState()) === 'PreparingRebalance' ? true : undefined,
      );
      view.failNextFetchOfOthers();
      await eventually('partition 0 to come back', () => (intake.owns(0) ? true : undefined));
      const from = taken.length;

      // The answer fetched in generation N reaches the intake now, then one more payment comes.
      held.release();
      await toPartition0(1);
      await eventually('offset 20 taken', () => (taken.includes(20) ? true : undefined));
      const since = new Set(taken.slice(from));
      expect([...Array(10).keys()].filter((o) => !since.has(o))).toEqual([]);
    } finally {
      view.releaseAll();
      await other.disconnect().catch(() => undefined);
      await intake.stop();
      await Promise.all([producer.disconnect(), admin.disconnect()]);
    }
  }, 90_000);
});
