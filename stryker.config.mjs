// Mutation testing of the core rules (issue 19): `npm run mutate`, not part of `npm test`.
// TESTING.md has the scores, the survivors and how long a run takes on two cores.
import * as path from 'node:path';

// The sandbox is a copy under .stryker-tmp, whose ../shared is not the real one (test/support/shared.ts).
process.env.SPARK_OPTIMIZER_SHARED_DIR ??= path.resolve('..', 'shared');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.mts', related: true },
  // Each mutant runs only the tests that reached it in the dry run, from the test files that import it.
  coverageAnalysis: 'perTest',
  mutate: [
    'src/collectors/record*.ts',
    'src/collectors/eventlog/replay.ts',
    'src/storage/repository.ts',
    'src/collectors/http/jsonClient.ts',
    'src/collectors/config.ts',
  ],
  // The sandbox is a copy: only what the unit tests need, never the benchmark data or the tools.
  ignorePatterns: ['bench-data', '.tools', '.spark-optimizer', 'out', 'test-results', 'reports', '*.vsix', '.git', '.ci', 'samples/**/*.db'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  concurrency: 2,
  timeoutMS: 10_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  // Later runs re-test only the mutants whose code or covering tests changed (the file is git-ignored).
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
};
