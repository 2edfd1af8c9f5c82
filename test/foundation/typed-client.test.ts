import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../common/project-root';
import codegenConfig from '../../codegen';

/**
 * client/generated/ is committed, so a change to schema.graphql or client/operations.ts without
 * `npm run codegen` would leave the typed client lying about the API. `graphql-codegen --check`
 * regenerates in memory (offline, about a second) and fails on any difference.
 */
const run = promisify(execFile);
const CODEGEN = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'graphql-codegen');
const check = (configFile: string) =>
  run(CODEGEN, ['--config', configFile, '--check', '--silent'], { cwd: PROJECT_ROOT });

describe('client/generated/', () => {
  it('is what graphql-codegen makes of schema.graphql and client/operations.ts', async () => {
    await expect(check('codegen.ts')).resolves.toBeDefined();
  });

  it('fails the check once it drifts (a copy with one line changed)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codegen-drift-'));
    try {
      const generated = path.join(dir, 'generated');
      fs.cpSync(path.join(PROJECT_ROOT, 'client', 'generated'), generated, { recursive: true });
      fs.appendFileSync(path.join(generated, 'graphql.ts'), 'export type Drift = 1;\n');
      // The project's own codegen settings, aimed at the drifted copy.
      const aimed = {
        ...codegenConfig,
        generates: { [`${generated}/`]: codegenConfig.generates['client/generated/'] },
      };
      fs.writeFileSync(path.join(dir, 'codegen.json'), JSON.stringify(aimed));
      /* eslint-disable @typescript-eslint/no-unsafe-assignment -- jest's asymmetric matchers (expect.any, expect.stringMatching) are typed any */
      await expect(check(path.join(dir, 'codegen.json'))).rejects.toMatchObject({
        code: 1,
        stdout: expect.stringMatching(/stale[\s\S]*graphql\.ts/),
      });
      /* eslint-enable @typescript-eslint/no-unsafe-assignment */
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
