import { backoffMs } from '../common/backoff';
import { loadConfig } from '../common/config';
import { secretsShape, withSecrets } from '../common/secrets';
import { freePortBlock } from './free-port';
import { startInfra, type Infra, type InfraOptions } from './infrastructure';
import { SERVICES, spawnService, stopService, waitReady, type ServiceName, type ServiceProcess } from './stack';

export interface SystemOptions extends InfraOptions {
  /** Each service's base port: replica `i` (from 0) listens on base + 10·i (`replicaPort`). */
  ports: Record<ServiceName, number>;
  /** The internal APIs' base ports (the gateway's, which money-storage calls, and money-storage's, which the gateway calls); free ports when absent. */
  internalPorts?: Partial<InternalPorts>;
  /** Processes of every service; 1 when absent. */
  replicas?: number;
  /** Extra environment for every service (delays, log level...). */
  env?: NodeJS.ProcessEnv;
  /** Extra node flags for every service (profiling). */
  execArgv?: string[];
  onServiceLine: (name: ServiceName, line: string) => void;
  /** Called when a service exits without being asked to; the system then restarts it. */
  onUnexpectedExit?: (name: ServiceName, code: number | null, restartInMs: number) => void;
}

/** The services that serve an internal API on a listener of its own. */
export type InternalPorts = Record<'gateway' | 'money-storage', number>;

/** Replica `i` of a service listens on its base port + 10·i, so replicas of 4000 are 4010, 4020... */
export const REPLICA_PORT_STRIDE = 10;
export const replicaPort = (base: number, replica: number): number => base + REPLICA_PORT_STRIDE * replica;

/** One process of a service. */
const instanceKey = (name: ServiceName, replica: number): string => `${name}#${replica}`;

/**
 * Kafka, Postgres and the services as separate processes, `replicas` of each: `npm start`, the
 * e2e suites and the benchmark. It supervises like an orchestrator would: a process that dies is
 * restarted, with a backoff that grows while it keeps dying.
 */
export class PaymentSystem {
  private readonly running = new Map<string, ServiceProcess>();
  private readonly expectedExits = new Set<ServiceProcess>();
  private readonly crashes = new Map<string, { count: number; at: number }>();
  private stopping = false;

  private constructor(
    readonly infra: Infra,
    private readonly options: SystemOptions,
    /** Secrets and NODE_ENV: fixed at start so a restarted service gets the same. */
    private readonly launchEnv: NodeJS.ProcessEnv,
    private readonly internalPorts: InternalPorts,
  ) {}

  static async start(options: SystemOptions): Promise<PaymentSystem> {
    // Before the infra: missing secrets should stop the launch at once, not after Kafka has booted.
    const launchEnv = launchSecrets(options.env);
    const replicas = options.replicas ?? 1;
    const internalPorts: InternalPorts = {
      gateway: options.internalPorts?.gateway ?? (await freePortBlock(replicas, REPLICA_PORT_STRIDE)),
      'money-storage': options.internalPorts?.['money-storage'] ?? (await freePortBlock(replicas, REPLICA_PORT_STRIDE)),
    };
    const system = new PaymentSystem(await startInfra(options), options, launchEnv, internalPorts);
    try {
      await Promise.all(system.instances().map(([name, replica]) => system.startService(name, replica)));
    } catch (e) {
      await system.stop();
      throw e;
    }
    return system;
  }

  get replicas(): number {
    return this.options.replicas ?? 1;
  }

  /** Every process this system runs, as [service, replica]. */
  instances(): Array<[ServiceName, number]> {
    return SERVICES.flatMap((name) =>
      Array.from({ length: this.replicas }, (_, i): [ServiceName, number] => [name, i]),
    );
  }

  /** What every process shares; replica 0's view of the internal APIs (what tools and tests use). */
  get env(): NodeJS.ProcessEnv {
    return {
      ...this.options.env,
      ...this.launchEnv,
      KAFKA_BROKERS: this.infra.kafkaBrokers,
      DATABASE_URL: this.infra.databaseUrl,
      KAFKA_TOPIC_PREFIX: this.options.topicPrefix ?? '',
      GATEWAY_URL: this.internalUrl('gateway'),
      MONEY_STORAGE_URL: this.internalUrl('money-storage'),
    };
  }

  url(name: ServiceName, replica = 0): string {
    return `http://127.0.0.1:${replicaPort(this.options.ports[name], replica)}`;
  }

  /** A service's internal API (the gateway's `/internal/users/:id`, money-storage's balances and ledger), behind INTERNAL_SERVICE_TOKEN. */
  internalUrl(name: keyof InternalPorts, replica = 0): string {
    return `http://127.0.0.1:${replicaPort(this.internalPorts[name], replica)}`;
  }

  service(name: ServiceName, replica = 0): ServiceProcess | undefined {
    return this.running.get(instanceKey(name, replica));
  }

  /**
   * Money-storage asks every gateway replica in turn (a debit must not fail because one is down);
   * gateway `i` reads balances from money-storage `i`, a read its client may simply retry.
   */
  private envOf(name: ServiceName, replica: number): NodeJS.ProcessEnv {
    const gateways = Array.from({ length: this.replicas }, (_, i) => this.internalUrl('gateway', i)).join(',');
    const peers = { ...this.env, GATEWAY_URL: gateways, MONEY_STORAGE_URL: this.internalUrl('money-storage', replica) };
    return name === 'paymaster'
      ? peers
      : { ...peers, INTERNAL_PORT: String(replicaPort(this.internalPorts[name], replica)) };
  }

  /** `env`: settings for this start only, over the system's own. */
  async startService(name: ServiceName, replica = 0, env: NodeJS.ProcessEnv = {}): Promise<void> {
    const port = replicaPort(this.options.ports[name], replica);
    const service = spawnService(
      name,
      port,
      { ...this.envOf(name, replica), ...env },
      this.options.onServiceLine,
      this.options.execArgv,
    );
    this.running.set(instanceKey(name, replica), service);
    void service.exited.then((code) => {
      if (!this.expectedExits.has(service) && !this.stopping) this.restartAfterCrash(name, replica, code);
    });
    await waitReady(service, 120_000);
  }

  private restartAfterCrash(name: ServiceName, replica: number, code: number | null): void {
    const key = instanceKey(name, replica);
    const last = this.crashes.get(key);
    const count = last && Date.now() - last.at < 60_000 ? last.count + 1 : 1;
    this.crashes.set(key, { count, at: Date.now() });
    const delay = backoffMs(count, { baseMs: 500, maxMs: 15_000 });
    this.options.onUnexpectedExit?.(name, code, delay);
    this.running.delete(key);
    setTimeout(() => {
      if (this.stopping || this.running.has(key)) return;
      // A start that fails ends in another exit, which schedules the next attempt.
      this.startService(name, replica).catch(() => undefined);
    }, delay).unref();
  }

  /** Takes a process out of supervision: its exit is expected. */
  private release(name: ServiceName, replica: number): ServiceProcess | undefined {
    const key = instanceKey(name, replica);
    const service = this.running.get(key);
    if (!service) return undefined;
    this.expectedExits.add(service);
    this.running.delete(key);
    return service;
  }

  /** SIGTERM and wait: the service's own clean shutdown. */
  async stopService(name: ServiceName, replica = 0): Promise<number | null> {
    const service = this.release(name, replica);
    return service ? stopService(service) : null;
  }

  /** SIGKILL: a crash, with no chance to commit or flush anything. */
  async killService(name: ServiceName, replica = 0): Promise<void> {
    const service = this.release(name, replica);
    if (!service) return;
    service.child.kill('SIGKILL');
    await service.exited;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.running.values()];
    all.forEach((service) => this.expectedExits.add(service));
    this.running.clear();
    await Promise.all(all.map((service) => stopService(service)));
    await this.infra.stop();
  }
}

/**
 * What every service needs to start: the caller's secrets, else the local secrets file (created on
 * first use), and NODE_ENV=development unless the caller says otherwise, as befits a launcher.
 */
function launchSecrets(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const given = { ...process.env, ...extra };
  const mode = { ...given, NODE_ENV: given.NODE_ENV ?? 'development' };
  return { NODE_ENV: mode.NODE_ENV, ...loadConfig(secretsShape, withSecrets(mode, secretsShape)) };
}
