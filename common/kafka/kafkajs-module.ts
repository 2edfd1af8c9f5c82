import { PATCHED_KAFKAJS_VERSION, installedKafkajsVersion } from './request-queue-fix';

/**
 * An installer that puts `replace(original)` where kafkajs loads `module` from (the `require`
 * cache), once per process. kafkajs' `loadedBy` module requires it once and keeps what it found,
 * so the installer must run before that one loads; it does nothing on another kafkajs release,
 * whose module may differ. The installer returns whether the replacement is in place.
 */
export function kafkajsModuleSwap<T>(module: string, loadedBy: string, replace: (original: T) => T): () => boolean {
  let applied = false;
  return () => {
    if (applied) return true;
    if (installedKafkajsVersion() !== PATCHED_KAFKAJS_VERSION || require.cache[loadedBy]) return false;
    const original = require(module) as T; // eslint-disable-line @typescript-eslint/no-require-imports
    const cached = require.cache[module];
    if (!cached) return false;
    cached.exports = replace(original);
    applied = true;
    return true;
  };
}
