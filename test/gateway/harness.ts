import 'reflect-metadata';
import pg from 'pg';
import type { Producer } from 'kafkajs';
import { createKafka, createProducer, publish } from '../../common/kafka/client';
import type { TopicNames } from '../../common/kafka/topics';
import type { MoneyOperationResult } from '../../common/kafka/contracts';
import { operationKey, statusChangedMessage } from '../../common/kafka/messages';
import { createLogger } from '../../common/logger';
import type { PaymentStatus } from '../../common/payment-status';
import { asPaymentId, asUserId } from '../../common/ids';
import { startGateway, type Gateway } from '../../gateway/src/app';
import { signToken } from '../../gateway/src/auth';
import { tokenPolicy } from '../../gateway/src/token-config';
import { loadGatewayConfig } from '../../gateway/src/config';
import type { LoadReadings } from '../../gateway/src/admission';
import { GatewayClient } from '../../client/gateway-client';
import { freshDatabase, freshTopics, kafkaBrokers } from '../support/infra';
import { testSecrets } from '../support/secrets';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  /** The internal API's listener, apart from the public `url`. */
  internalUrl: string;
  names: TopicNames;
  prefix: string;
  databaseUrl: string;
  sql: pg.Pool;
  secret: string;
  serviceToken: string;
  client(userName?: string): GatewayClient;
  /** Plays the paymaster: a status event straight into `status-payments`. */
  emitStatus(paymentId: string, userId: string, status: PaymentStatus, reason?: string | null): Promise<void>;
  /** Plays money-storage: its answer to a command, straight into `money-operation-results`. */
  emitResult(result: MoneyOperationResult): Promise<void>;
  stop(): Promise<void>;
}

/** Load readings of a system with room to spare. */
export const CALM: LoadReadings = {
  eventLoopDelayMs: 5,
  writeQueueWaitMs: 0,
  outboxBacklog: 0,
  paymentsBacklogSeconds: 1,
};

/**
 * Admission refuses payments by the machine's load; a test about something else must not depend
 * on how busy the CI machine is (and there is no paymaster here to drain `payments`).
 * test/gateway/admission.test.ts turns each reading on.
 */
export const ADMISSION_OFF = {
  ADMISSION_MAX_EVENT_LOOP_DELAY_MS: '0',
  ADMISSION_MAX_EVENT_LOOP_UTILIZATION_PERCENT: '0',
  ADMISSION_MAX_WRITE_QUEUE_MS: '0',
  ADMISSION_MAX_OUTBOX_BACKLOG: '0',
  ADMISSION_MAX_BACKLOG_SECONDS: '0',
  ADMISSION_TARGET_LATENCY_MS: '0',
  ADMISSION_PACE_FLOOR_PER_SECOND: '0',
};

/** A real gateway on a free port, with its own database and topics, on the run's Kafka and Postgres. */
export async function startTestGateway(label: string, env: Record<string, string> = {}): Promise<TestGateway> {
  const [databaseUrl, { prefix, names }] = await Promise.all([freshDatabase(label), freshTopics(label)]);
  const config = loadGatewayConfig({
    NODE_ENV: 'test',
    PORT: '0',
    INTERNAL_PORT: '0',
    ...testSecrets(),
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: kafkaBrokers().join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...ADMISSION_OFF,
    ...env,
  });
  const logger = createLogger('gateway-test', config.LOG_LEVEL);
  const gateway = await startGateway(config, logger);
  const producer: Producer = createProducer(
    createKafka({ brokers: kafkaBrokers(), clientId: 'test-paymaster', logger }),
  );
  await producer.connect();
  const sql = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  const url = `http://127.0.0.1:${gateway.port}`;
  return {
    gateway,
    url,
    internalUrl: `http://127.0.0.1:${gateway.internalPort}`,
    names,
    prefix,
    databaseUrl,
    sql,
    secret: config.JWT_SECRET,
    serviceToken: config.INTERNAL_SERVICE_TOKEN,
    client: (userName?: string) =>
      new GatewayClient(url, userName ? signToken(userName, tokenPolicy(config)) : undefined),
    emitStatus: async (paymentId, userId, status, reason = null) => {
      const value = statusChangedMessage(
        { paymentId: asPaymentId(paymentId), userId: asUserId(userId) },
        status,
        reason,
      );
      await publish(producer, names, 'statusPayments', [{ key: paymentId, value }]);
    },
    emitResult: (result) =>
      publish(producer, names, 'moneyOperationResults', [{ key: operationKey(result), value: result }]),
    stop: async () => {
      await producer.disconnect();
      await sql.end();
      await gateway.stop();
    },
  };
}

export async function paymentRow(
  t: TestGateway,
  id: string,
): Promise<{ status: string; user_id: string; amount: number } | undefined> {
  const { rows } = await t.sql.query<{ status: string; user_id: string; amount: number }>(
    'SELECT status, user_id, amount FROM gateway.payments WHERE id = $1',
    [id],
  );
  return rows[0];
}

export async function countRows(t: TestGateway): Promise<{ payments: number; outbox: number }> {
  const { rows } = await t.sql.query<{ payments: number; outbox: number }>(
    'SELECT (SELECT count(*)::int FROM gateway.payments) AS payments, (SELECT count(*)::int FROM gateway.outbox) AS outbox',
  );
  return rows[0]!;
}

export async function userIdOf(t: TestGateway, userName: string): Promise<string> {
  const { rows } = await t.sql.query<{ id: string }>('SELECT id FROM gateway.users WHERE user_name = $1', [userName]);
  if (!rows[0]) throw new Error(`no user ${userName}`);
  return String(rows[0].id);
}
