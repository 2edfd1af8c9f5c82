import { builtinModules } from 'node:module';

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; relative paths and Node built-ins → undefined. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!))
    return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
