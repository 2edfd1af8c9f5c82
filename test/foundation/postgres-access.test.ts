import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { firstClosedDirectory, systemUser } from '../../infra/postgres-access';

/**
 * As root, the embedded Postgres runs as the `postgres` user; a clone under a directory that user
 * cannot enter must be named before the start, not found by a spawn failing with EACCES.
 */
describe('which directory the postgres user cannot enter', () => {
  const stranger = { uid: 54_321, gid: 54_321 };
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-access-'));
    fs.chmodSync(root, 0o755);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const nested = (...modes: number[]): string[] => {
    const dirs: string[] = [];
    let dir = root;
    for (const [i, mode] of modes.entries()) {
      dir = path.join(dir, `d${i}`);
      fs.mkdirSync(dir);
      fs.chmodSync(dir, mode);
      dirs.push(dir);
    }
    return dirs;
  };

  it('is the first one on the way closed to others (mktemp -d makes 700)', () => {
    const [outer, inner] = nested(0o700, 0o700);
    expect(firstClosedDirectory(path.join(inner!, 'node_modules', 'x.js'), stranger)).toBe(outer);
  });

  it('is none when every directory lets others through, even one they cannot list (711)', () => {
    const [, inner] = nested(0o711, 0o755);
    expect(firstClosedDirectory(path.join(inner!, 'data'), stranger)).toBeUndefined();
  });

  it("reads the owner's bits for the owner and the group's for the group", () => {
    const [dir] = nested(0o750);
    const { uid, gid } = fs.statSync(dir!);
    expect(firstClosedDirectory(dir!, { uid, gid: stranger.gid })).toBeUndefined();
    expect(firstClosedDirectory(dir!, { uid: stranger.uid, gid })).toBeUndefined();
    expect(firstClosedDirectory(dir!, stranger)).toBe(dir);
  });

  it("reads everyone's bits for a user not created yet", () => {
    const [dir] = nested(0o770);
    expect(firstClosedDirectory(dir!, undefined)).toBe(dir);
  });

  it('reads users from a passwd file, and nobody for a name it does not hold', () => {
    const passwd = path.join(root, 'passwd');
    fs.writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\npostgres:x:105:110::/var/lib/postgresql:/bin/sh\n');
    expect(systemUser('postgres', passwd)).toEqual({ uid: 105, gid: 110 });
    expect(systemUser('postgre', passwd)).toBeUndefined();
    expect(systemUser('postgres', path.join(root, 'missing'))).toBeUndefined();
  });
});
