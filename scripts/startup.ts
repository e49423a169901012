/**
 * `node out/startup.js [DIST] [RUNS]` (after `node scripts/build.mjs --tools`): the start-up figures
 * of scripts/benchStartup.ts for the bundles in DIST (default dist/), e.g. those of an older commit
 * built in a `git worktree`.
 */
import * as path from 'node:path';
import { activationFigures, startupFigures } from './benchStartup';

const dist = process.argv[2] ?? 'dist';
const runs = Number(process.argv[3] ?? 5);
void (async () => {
  const lines = [...(await startupFigures(path.join(dist, 'cli.js'), runs)), ...(await activationFigures(path.join(dist, 'extension.js'), undefined, runs))];
  process.stdout.write(`${lines.join('\n')}\n`);
})();
