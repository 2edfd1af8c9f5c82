import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../common/project-root';
import { renderSchema } from '../../gateway/src/graphql/print-schema';

describe('schema.graphql', () => {
  it('is what the code emits (run `npm run schema` then `npm run codegen` after changing the API)', async () => {
    expect(fs.readFileSync(path.join(PROJECT_ROOT, 'schema.graphql'), 'utf8')).toBe(await renderSchema());
  });
});
