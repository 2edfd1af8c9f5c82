import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asUser, byModeBits, firstClosedDirectory, systemUser } from '../../infra/postgres-access';

/**
 * As root, the embedded Postgres runs as the `postgres` user; a clone under a directory that user
 * cannot enter must be named before the start, not found by a spawn failing with EACCES.
 */
describe('which directory the postgres user cannot enter', () => {
  const stranger = byModeBits({ uid: 54_321, gid: 54_321 });
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-access-'));
    fs.chmodSync(root, 0o755);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  let made = 0;
  /** Directories one inside the other, under the test's root, with these modes. */
  const nested = (...modes: number[]): string[] => {
    const dirs: string[] = [];
    let dir = root;
    for (const mode of modes) {
      dir = path.join(dir, `d${(made += 1)}`);
      fs.mkdirSync(dir);
      fs.chmodSync(dir, mode);
      dirs.push(dir);
    }
    return dirs;
  };

  it('is the first one on the way closed to others (mktemp -d makes 700); what does not exist yet is not judged', () => {
    const [outer, inner] = nested(0o700, 0o700);
    expect(firstClosedDirectory(path.join(inner!, 'node_modules', 'x.js'), stranger, root)).toBe(outer);
  });

  it('is none when every directory lets others through, even one they cannot list (711)', () => {
    const [, inner] = nested(0o711, 0o755);
    expect(firstClosedDirectory(path.join(inner!, 'data'), stranger, root)).toBeUndefined();
  });

  it('is found through a symbolic link, on the real path', () => {
    const [closed] = nested(0o700);
    const open = path.join(root, 'open');
    fs.mkdirSync(path.join(closed!, 'inside'));
    fs.symlinkSync(path.join(closed!, 'inside'), open);
    expect(firstClosedDirectory(path.join(open, 'data'), stranger, root)).toBe(closed);
  });

  it("reads the owner's bits for the owner and the group's for the group", () => {
    const [dir] = nested(0o750);
    const { uid, gid } = fs.statSync(dir!);
    expect(firstClosedDirectory(dir!, byModeBits({ uid, gid: 54_321 }), root)).toBeUndefined();
    expect(firstClosedDirectory(dir!, byModeBits({ uid: 54_321, gid }), root)).toBeUndefined();
    expect(firstClosedDirectory(dir!, stranger, root)).toBe(dir);
  });

  it("reads everyone's bits for a user not created yet", () => {
    const [dir] = nested(0o770);
    expect(firstClosedDirectory(dir!, byModeBits(undefined), root)).toBe(dir);
  });

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('asks the system as an existing user', () => {
    const nobody = systemUser('nobody');
    expect(nobody).toBeDefined();
    const [closed] = nested(0o700);
    const [, passable] = nested(0o711, 0o711);
    expect(firstClosedDirectory(closed!, asUser(nobody!), root)).toBe(closed);
    expect(firstClosedDirectory(passable!, asUser(nobody!), root)).toBeUndefined();
  });

  it('reads users from a passwd file, and nobody for a name it does not hold', () => {
    const passwd = path.join(root, 'passwd');
    fs.writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\npostgres:x:105:110::/var/lib/postgresql:/bin/sh\n');
    expect(systemUser('postgres', passwd)).toEqual({ uid: 105, gid: 110 });
    expect(systemUser('postgre', passwd)).toBeUndefined();
    expect(systemUser('postgres', path.join(root, 'missing'))).toBeUndefined();
  });
});
