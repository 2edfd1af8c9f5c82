import { loadLaunchConfig } from '../../infra/launch-config';
import { replicaPort } from '../../infra/system';

/** `npm start -- --brokers N --replicas N`, validated once like every setting. */
describe("npm start's cluster flags", () => {
  it('default to one broker and one process of each service', () => {
    expect(loadLaunchConfig({}, [])).toMatchObject({ brokers: 1, replicas: 1 });
  });

  it('take a broker count and a replica count, in any order', () => {
    expect(loadLaunchConfig({}, ['--replicas', '2', '--brokers', '3'])).toMatchObject({ brokers: 3, replicas: 2 });
    expect(loadLaunchConfig({}, ['--brokers=3'])).toMatchObject({ brokers: 3, replicas: 1 });
  });

  it('refuse what cannot run, naming the flag', () => {
    expect(() => loadLaunchConfig({}, ['--brokers', '0'])).toThrow(/--brokers/);
    expect(() => loadLaunchConfig({}, ['--replicas', '9'])).toThrow(/--replicas/); // 8 partitions: a ninth would idle
    expect(() => loadLaunchConfig({}, ['--replicas', 'two'])).toThrow(/--replicas/);
    expect(() => loadLaunchConfig({}, ['--nodes', '3'])).toThrow(/--nodes/);
    expect(() => loadLaunchConfig({ KAFKA_BROKERS: 'kafka:9092' }, ['--brokers', '3'])).toThrow(
      /--brokers: .*KAFKA_BROKERS/,
    );
  });

  it('put replica i on its base port + 10·i: gateways on 4000 and 4010, internal 4003 and 4013', () => {
    expect([replicaPort(4000, 0), replicaPort(4000, 1), replicaPort(4003, 1), replicaPort(4004, 1)]).toEqual([
      4000, 4010, 4013, 4014,
    ]);
  });
});
