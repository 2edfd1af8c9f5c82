import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { PROJECT_ROOT } from '../../../common/project-root';
import { buildGatewaySchema } from './schema';

/** Writes schema.graphql from the code; a test fails when the committed file is stale. */
export async function renderSchema(): Promise<string> {
  return `${printSchema(await buildGatewaySchema())}\n`;
}

if (require.main === module) {
  void renderSchema().then((sdl) => fs.writeFileSync(path.join(PROJECT_ROOT, 'schema.graphql'), sdl));
}
