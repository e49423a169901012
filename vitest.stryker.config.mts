/**
 * The vitest configuration `npm run mutate` (StrykerJS, stryker.config.mjs) runs under: vitest.config.mts's
 * settings, for the unit tests only. Left out: the e2e tests (a real code-server), the
 * @vscode/test-electron wrapper, and the test files that work only through the bundled CLI or worker
 * in dist/ in a child process: they run the unmutated bundle, so they can never kill a mutant of
 * src/. (engineEdges.test.ts stays: most of its tests call the collector in-process.) Also left out:
 * hostileFiles.test.ts, whose EACCES test runs dist/cli.js as `nobody`, who cannot read Stryker's
 * 0700 sandbox, so the dry run fails; and the fuzz suite, which replays its cases in `beforeAll`:
 * code reached outside a test makes every replay mutant "static", run against every test.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: { vscode: fileURLToPath(new URL('./test/support/vscodeFake.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      '**/node_modules/**',
      'test/e2e/**',
      'test/integration.test.ts',
      'test/cli.test.ts',
      'test/cloudCli.test.ts',
      'test/cloudWorker.test.ts',
      'test/decodeAside.test.ts',
      'test/collectClient.test.ts',
      'test/durability.test.ts',
      'test/historyServerCli.test.ts',
      'test/pool.test.ts',
      'test/startup.test.ts',
      'test/hostileFiles.test.ts',
      'test/fuzz/**',
    ],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
