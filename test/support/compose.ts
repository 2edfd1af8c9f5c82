import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../common/project-root';

/** The parts of a docker-compose service the tests look at. */
export interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }> | string[];
  restart?: string;
  profiles?: string[];
}

export const readProjectFile = (name: string): string => fs.readFileSync(path.join(PROJECT_ROOT, name), 'utf8');

/** docker-compose.yml with its YAML anchors and `<<` merges resolved, as `docker compose config` would. */
export const composeServices = (): Record<string, ComposeService> =>
  (parse(readProjectFile('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> })
    .services;

const REFERENCE = /\$\{([A-Z0-9_]+)(?::\?[^}]*)?\}/g;

/** Every variable a compose value takes from the environment or .env. */
export const referencedVariables = (value: string): string[] => [...value.matchAll(REFERENCE)].map((m) => m[1]!);

/** A service's environment as the container sees it, `${VAR:?…}` filled from `vars` (and refused when missing, as compose does). */
export function resolvedEnvironment(service: ComposeService, vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [
      name,
      String(value).replace(REFERENCE, (_, variable: string) => {
        if (!vars[variable]) throw new Error(`${name} needs ${variable}`);
        return vars[variable];
      }),
    ]),
  );
}

/** `KEY=value` lines of an env file; comments and blank lines skipped. */
export const envFileEntries = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
