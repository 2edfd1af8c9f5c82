import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './money-storage/db/schema.ts',
  out: './money-storage/db/migrations',
  schemaFilter: ['money'],
});
