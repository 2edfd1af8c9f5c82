import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../common/project-root';
import { packageOf } from '../support/packages';

/** Every source tree whose imports must resolve to a package the project declares, not to one that happens to be hoisted. */
const SOURCE_DIRS = ['common', 'gateway', 'paymaster', 'money-storage', 'client', 'infra', 'bench', 'test', 'tools'];
const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function undeclaredImports(): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.devDependencies ?? {}),
  ]);
  const found = SOURCE_DIRS.flatMap((dir) => sourceFiles(path.join(PROJECT_ROOT, dir))).flatMap((file) =>
    [...fs.readFileSync(file, 'utf8').matchAll(SPECIFIER)].map((m) => ({
      file: path.relative(PROJECT_ROOT, file),
      pkg: packageOf(m[1]!),
    })),
  );
  return found.filter((f) => f.pkg !== undefined && !declared.has(f.pkg)).map((f) => `${f.pkg} (${f.file})`);
}

describe('package.json', () => {
  it('names the package of every bare import', () => {
    expect([...new Set(undeclaredImports())]).toEqual([]);
  });

  it('maps specifiers to package names', () => {
    expect(packageOf('@apollo/server/errors')).toBe('@apollo/server');
    expect(packageOf('ajv/dist/2020')).toBe('ajv');
    expect(packageOf('node:http')).toBeUndefined();
    expect(packageOf('fs')).toBeUndefined();
    expect(packageOf('../x')).toBeUndefined();
  });
});
