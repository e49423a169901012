// Runs test/integration/suite.ts in a VS Code downloaded by @vscode/test-electron.
// Needs internet access to VS Code's download server (a developer laptop, a CI with internet);
// this project's own CI machines cannot reach it, so `npm test` reports this suite as not run there.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { runTests } from '@vscode/test-electron';

const root = path.resolve(import.meta.dirname, '..');
const suite = path.join(root, 'out', 'integration', 'suite.js');
await build({ entryPoints: [path.join(root, 'test', 'integration', 'suite.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], outfile: suite, logLevel: 'warning' });

const workspace = mkdtempSync(path.join(tmpdir(), 'spark-opt-integration-'));
cpSync(path.join(root, 'samples', 'event-logs'), path.join(workspace, 'logs'), { recursive: true });
writeFileSync(path.join(workspace, 'spark-optimizer.yaml'), 'collector:\n  type: event_log\n  pathh: logs\n');

await runTests({ extensionDevelopmentPath: root, extensionTestsPath: suite, launchArgs: [workspace, '--disable-extensions'] });
