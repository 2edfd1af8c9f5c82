/**
 * Tests run on the compiled output (`npm test` builds first): type-graphql needs real decorator
 * metadata, which tsc emits, and the services under test are started from the same dist/.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/dist/test'],
  testMatch: ['**/*.test.js'],
  globalSetup: '<rootDir>/dist/test/support/global-setup.js',
  globalTeardown: '<rootDir>/dist/test/support/global-teardown.js',
  testTimeout: 60000,
  maxWorkers: 2,
  verbose: true,
};
