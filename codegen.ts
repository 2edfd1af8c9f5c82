import type { CodegenConfig } from '@graphql-codegen/cli';

/** A typed client from the committed schema: `npm run codegen` after changing schema.graphql or client/operations.ts. */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['client/operations.ts'],
  ignoreNoDocuments: false,
  generates: {
    'client/generated/': {
      preset: 'client',
      config: { enumsAsTypes: true, scalars: { DateTime: 'string' }, useTypeImports: true },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
