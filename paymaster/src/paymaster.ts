import { BatchPublisher } from '../../common/kafka/batch-publisher';
import { createKafka, ensureTopics } from '../../common/kafka/client';
import { countingParked } from '../../common/kafka/dlq-counter';
import { SelfHealingProducer } from '../../common/kafka/self-healing-producer';
import { groupName } from '../../common/kafka/topics';
import type { Logger } from '../../common/logger';
import { startHealthServer } from '../../common/health-server';
import { ignoreStall, type StallHandler } from '../../common/kafka/consumer-watchdog';
import { stopAll, stoppable, type StopStage } from '../../common/lifecycle';
import { kafkaReadiness, type RunningService } from '../../common/service';
import type { PaymasterConfig } from './config';
import { tickedDelays, type Delays } from './delays';
import { TickClock } from './stage-clock';
import { PaymasterMetrics } from './metrics';
import { PaymentConductor, type ConductorStats } from './payment-conductor';
import { PaymentsIntake } from './payments-intake';
import { ResultsListener } from './results-listener';

export interface Paymaster extends RunningService {
  /** The health server's port (useful with PORT=0). */
  port: number;
  stats(): ConductorStats & { paused: boolean };
}

/**
 * Wires the paymaster: results listener first (it must be positioned before any debit goes
 * out), then the payments intake, then the health server. Stopping runs the other way round,
 * every step under the one shutdown grace.
 */
export interface PaymasterOptions {
  /** The random waits between steps; the configured uniform range by default. */
  delays?: Delays;
  onStall?: StallHandler;
}

export async function startPaymaster(
  config: PaymasterConfig,
  logger: Logger,
  options: PaymasterOptions = {},
): Promise<Paymaster> {
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'paymaster', logger });
  const admin = kafka.admin();
  await admin.connect();
  const names = await ensureTopics(admin, config.KAFKA_TOPIC_PREFIX);
  const producer = new SelfHealingProducer(kafka, logger);
  const metrics = new PaymasterMetrics();
  const parking = countingParked(producer, metrics.registry);
  const publisher = new BatchPublisher(producer, names, {
    lingerMs: config.PAYMASTER_PUBLISH_LINGER_MS,
    maxBatch: 2000,
    logger,
  });

  let intake: PaymentsIntake | undefined;
  const tickMs = config.PAYMASTER_STAGE_TICK_MS;
  const clock = tickMs > 0 ? new TickClock(tickMs) : undefined;
  const conductor = new PaymentConductor({
    publisher,
    delays: options.delays ?? tickedDelays(config.PAYMASTER_DELAY_MIN_MS, config.PAYMASTER_DELAY_MAX_MS, tickMs),
    clock,
    resultDeadlineMs: config.PAYMASTER_RESULT_DEADLINE_MS,
    resendIntervalMs: config.PAYMASTER_RESEND_INTERVAL_MS,
    logger,
    onRelease: () => intake?.maybeResume(),
    onMilestone: metrics.milestoneReached,
  });
  const paymasterGroup = groupName(config.KAFKA_TOPIC_PREFIX, config.PAYMASTER_GROUP_ID);
  const consumers = {
    kafka,
    stallMs: config.KAFKA_CONSUMER_STALL_MS,
    commitIntervalMs: config.KAFKA_COMMIT_INTERVAL_MS,
    onStall: options.onStall ?? ignoreStall,
    logger,
  };
  const results = new ResultsListener({
    consumers,
    names,
    groupId: paymasterGroup,
    holds: (id) => conductor.holds(id),
    onResult: (r) => conductor.onResult(r),
    ownsPartition: (partition) => intake?.owns(partition) ?? false,
    producer: parking,
    logger,
    admin,
  });
  await results.start();
  intake = new PaymentsIntake({
    consumers: { ...consumers, sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS },
    names,
    groupId: paymasterGroup,
    maxInFlight: config.PAYMASTER_MAX_IN_FLIGHT,
    conductor,
    producer: parking,
    publisher,
    admin,
    logger,
  });
  await intake.start();
  const groups = [
    { groupId: paymasterGroup, topics: [names.payments], fromBeginning: true },
    { groupId: results.groupId, topics: [names.moneyOperationResults], fromBeginning: false },
  ];
  metrics.watch({ conductor, admin, groups });
  const server = await startHealthServer(config.PORT, { kafka: kafkaReadiness(admin) }, metrics.registry, logger);
  const started = intake;

  const stages: StopStage[] = [
    { intake: started },
    { results, publisher },
    // After the conductor's last user: a timer still armed for a tick whose callbacks were cancelled goes too.
    { producer, logs: stoppable(() => conductor.flushLogs()), clock: stoppable(() => Promise.resolve(clock?.stop())) },
    { server },
    { admin: stoppable(() => admin.disconnect()) },
  ];
  return {
    port: server.port,
    stats: () => ({ ...conductor.stats(), paused: started.isPaused }),
    stop: () => stopAll('paymaster', stages, config.PAYMASTER_SHUTDOWN_GRACE_MS),
  };
}
