import { backoffMs } from '../common/backoff';
import { loadConfig } from '../common/config';
import { secretsShape, withSecrets } from '../common/secrets';
import { freePort } from './free-port';
import { startInfra, type Infra, type InfraOptions } from './infrastructure';
import { SERVICES, spawnService, stopService, waitReady, type ServiceName, type ServiceProcess } from './stack';

export interface SystemOptions extends InfraOptions {
  ports: Record<ServiceName, number>;
  /** The internal APIs (the gateway's, which money-storage calls, and money-storage's, which the gateway calls); free ports when absent. */
  internalPorts?: Partial<InternalPorts>;
  /** Extra environment for every service (delays, log level...). */
  env?: NodeJS.ProcessEnv;
  /** Extra node flags for every service (profiling). */
  execArgv?: string[];
  onServiceLine: (name: ServiceName, line: string) => void;
  /** Called when a service exits without being asked to; the system then restarts it. */
  onUnexpectedExit?: (name: ServiceName, code: number | null, restartInMs: number) => void;
}

/**
 * Kafka, Postgres and the three services as separate processes: `npm start`, the e2e suite and
 * the benchmark. It supervises like an orchestrator would: a service that dies is restarted, with
 * a backoff that grows while it keeps dying.
 */
/** The services that serve an internal API on a listener of its own. */
export type InternalPorts = Record<'gateway' | 'money-storage', number>;

export class PaymentSystem {
  private readonly running = new Map<ServiceName, ServiceProcess>();
  private readonly expectedExits = new Set<ServiceProcess>();
  private readonly crashes = new Map<ServiceName, { count: number; at: number }>();
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
    const internalPorts: InternalPorts = {
      gateway: options.internalPorts?.gateway ?? (await freePort()),
      'money-storage': options.internalPorts?.['money-storage'] ?? (await freePort()),
    };
    const system = new PaymentSystem(await startInfra(options), options, launchEnv, internalPorts);
    try {
      await Promise.all(SERVICES.map((name) => system.startService(name)));
    } catch (e) {
      await system.stop();
      throw e;
    }
    return system;
  }

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

  url(name: ServiceName): string {
    return `http://127.0.0.1:${this.options.ports[name]}`;
  }

  /** A service's internal API (the gateway's `/internal/users/:id`, money-storage's balances and ledger), behind INTERNAL_SERVICE_TOKEN. */
  internalUrl(name: keyof InternalPorts): string {
    return `http://127.0.0.1:${this.internalPorts[name]}`;
  }

  service(name: ServiceName): ServiceProcess | undefined {
    return this.running.get(name);
  }

  async startService(name: ServiceName): Promise<void> {
    const env = name === 'paymaster' ? this.env : { ...this.env, INTERNAL_PORT: String(this.internalPorts[name]) };
    const service = spawnService(name, this.options.ports[name], env, this.options.onServiceLine, this.options.execArgv);
    this.running.set(name, service);
    void service.exited.then((code) => {
      if (!this.expectedExits.has(service) && !this.stopping) this.restartAfterCrash(name, code);
    });
    await waitReady(service, 120_000);
  }

  private restartAfterCrash(name: ServiceName, code: number | null): void {
    const last = this.crashes.get(name);
    const count = last && Date.now() - last.at < 60_000 ? last.count + 1 : 1;
    this.crashes.set(name, { count, at: Date.now() });
    const delay = backoffMs(count, { baseMs: 500, maxMs: 15_000 });
    this.options.onUnexpectedExit?.(name, code, delay);
    this.running.delete(name);
    setTimeout(() => {
      if (this.stopping || this.running.has(name)) return;
      // A start that fails ends in another exit, which schedules the next attempt.
      this.startService(name).catch(() => undefined);
    }, delay).unref();
  }

  /** SIGTERM and wait: the service's own clean shutdown. */
  async stopService(name: ServiceName): Promise<number | null> {
    const service = this.running.get(name);
    if (!service) return null;
    this.expectedExits.add(service);
    this.running.delete(name);
    return stopService(service);
  }

  /** SIGKILL: a crash, with no chance to commit or flush anything. */
  async killService(name: ServiceName): Promise<void> {
    const service = this.running.get(name);
    if (!service) return;
    this.expectedExits.add(service);
    this.running.delete(name);
    service.child.kill('SIGKILL');
    await service.exited;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.running.keys()].map((name) => this.stopService(name)));
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
