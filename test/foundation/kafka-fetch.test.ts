import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { requirePortsFree } from '../../infra/free-port';
import {
  INSTALL_JAVA,
  INSTALL_MAVEN,
  downloadedMb,
  fetchKafkaJars,
  javaMajor,
  requireJava,
} from '../../infra/kafka-fetch';

const madeDirs: string[] = [];
afterAll(() => madeDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A PATH holding only the given fake tools (shell scripts), so each case sees exactly the machine it describes. */
function fakeTools(tools: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-tools-'));
  madeDirs.push(dir);
  for (const [name, script] of Object.entries(tools))
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return dir;
}

const originalPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = originalPath;
});

describe('the Kafka broker prerequisites', () => {
  it('reads Java major versions from both banner styles', () => {
    expect(javaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(javaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(javaMajor('java version "1.8.0_392"')).toBe(8);
  });

  it('names the package to install when java is missing or too old', async () => {
    process.env.PATH = fakeTools({});
    await expect(requireJava()).rejects.toThrow(INSTALL_JAVA);
    process.env.PATH = fakeTools({ java: `echo 'openjdk version "11.0.2" 2019-01-15' >&2` });
    await expect(requireJava()).rejects.toThrow(`Java 17 or later, found 11: ${INSTALL_JAVA}`);
  });

  it('names the package to install when Maven is missing', async () => {
    process.env.PATH = fakeTools({});
    await expect(fetchKafkaJars('pom.xml', '4.4.0', () => undefined)).rejects.toThrow(INSTALL_MAVEN);
  });

  it('says what it fetches, counts what Maven downloaded, and how long it took', async () => {
    process.env.PATH = fakeTools({
      mvn: [
        'echo "[INFO] Downloading from central: https://repo/a.jar"',
        'echo "[INFO] Downloaded from central: https://repo/a.jar (1.2 MB at 3 MB/s)"',
        'echo "Downloaded from central: https://repo/b.pom (300 kB at 1 MB/s)"',
      ].join('\n'),
    });
    const said: string[] = [];
    await fetchKafkaJars('pom.xml', '4.4.0', (line) => said.push(line));
    expect(said[0]).toMatch(/^fetching Apache Kafka 4\.4\.0 jars with Maven \(first start only, ~\d+ MB\)\.\.\.$/);
    expect(said.at(-1)).toMatch(/^done in \d+ s \(2 files, 1\.5 MB downloaded\)$/);
  });

  it('points at Maven Central and shows Maven’s last lines when it fails', async () => {
    process.env.PATH = fakeTools({ mvn: 'echo "[ERROR] Could not transfer artifact"; exit 1' });
    await expect(fetchKafkaJars('pom.xml', '4.4.0', () => undefined)).rejects.toThrow(
      /Maven Central[\s\S]*Could not transfer artifact/,
    );
  });

  it('reads sizes in every unit Maven prints and ignores other lines', () => {
    expect(downloadedMb('Downloaded from central: https://r/x.jar (512 B at 1 kB/s)')).toBeCloseTo(0.000512);
    expect(downloadedMb('[INFO] Downloaded from central: https://r/x.jar (2.5 GB at 9 MB/s)')).toBe(2500);
    expect(downloadedMb('[INFO] Downloading from central: https://r/x.jar')).toBeUndefined();
  });
});

describe('fixed ports', () => {
  it('names the variable that moves a port already in use', async () => {
    const server = net.createServer().listen(0);
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(requirePortsFree([['KAFKA_PORT', port]])).rejects.toThrow(
        `port ${port} is in use: stop what listens there, or set KAFKA_PORT to a free port`,
      );
    } finally {
      server.close();
    }
    await expect(requirePortsFree([['KAFKA_PORT', port]])).resolves.toBeUndefined();
  });
});
