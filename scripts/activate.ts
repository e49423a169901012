/**
 * Activates a built extension (`node out/activate.js dist/extension.js [WORKSPACE]`) in plain Node, with
 * test/support/vscodeFake.ts standing in for VS Code and no-op stubs for the APIs it lacks, in a
 * workspace holding a spark-optimizer.yaml (what activates the extension). Prints one JSON line:
 * the time from the first `require` to the Sources model's first load (`sparkOptimizer.hasSources`
 * set), the process's peak RSS, and which files of the extension's folder were loaded. A proxy for
 * activation in the real extension host (issue #12), which cannot be timed from the outside.
 * WORKSPACE (default: a new temporary folder) is left for the caller to remove: the extension may
 * still be writing into it when this exits.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as fake from '../test/support/vscodeFake';

const started = performance.now();
const extension = path.resolve(process.argv[2] ?? 'dist/extension.js');
const root = process.argv[3] ?? mkdtempSync(path.join(tmpdir(), 'spark-opt-activate-'));
writeFileSync(path.join(root, 'spark-optimizer.yaml'), 'sources:\n  - type: event_log\n    name: logs\n    path: ./logs\n');

// Anything the fake does not have: callable, constructible, every property another stub, not a promise.
const stub: unknown = new Proxy(function () {}, {
  get: (_t, key) => (key === 'then' ? undefined : key === Symbol.toPrimitive ? () => '' : stub),
  apply: () => stub,
  construct: () => stub as object,
});
const withStubs = <T extends object>(o: T): T => Object.setPrototypeOf(o, stub as object) as T;
// Activation catches its own failures and logs them: here they fail the measurement.
const log = withStubs({ error: (m: string) => fail(new Error(m)) });
let fail: (err: Error) => void = () => undefined;
let loaded: () => void = () => undefined;
const hasSources = new Promise<void>((resolve, reject) => ((loaded = resolve), (fail = reject)));
const api = {
  ...fake,
  workspace: withStubs({ ...fake.workspace, workspaceFolders: [{ uri: fake.Uri.file(root), name: 'w', index: 0 }], isTrusted: true }),
  // A status-bar item is written to (name, text, tooltip): a plain object, not the callable stub (a function's name is read-only).
  window: withStubs({ createOutputChannel: () => log, showErrorMessage: () => Promise.resolve(undefined), createStatusBarItem: () => ({ show: () => undefined, hide: () => undefined, dispose: () => undefined }) }),
  commands: withStubs({
    executeCommand: async (command: string, key?: string, value?: unknown) => {
      await fake.commands.executeCommand(command, key, value);
      if (key === 'sparkOptimizer.hasSources') loaded();
    },
  }),
};
// A prototype, not a Proxy: esbuild's interop copies the module's own keys and keeps its prototype.
const vscode = Object.setPrototypeOf(api, stub as object) as object;
fake.setWorkspaceRoot(root);

const modules = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const load = modules._load;
modules._load = (request, ...rest) => (request === 'vscode' ? vscode : load(request, ...rest));

void (async () => {
  const req = Module.createRequire(__filename);
  const ext = req(extension) as { activate: (context: unknown) => void };
  const context = { subscriptions: [] as unknown[], extensionPath: path.dirname(path.dirname(extension)), secrets: stub, globalState: stub, workspaceState: stub };
  ext.activate(context);
  await hasSources;
  const ms = performance.now() - started;
  const mb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;
  const dir = path.dirname(extension);
  const files = Object.keys(req.cache).filter((f) => path.dirname(f) === dir).map((f) => path.basename(f));
  process.stdout.write(`${JSON.stringify({ ms, mb, files })}\n`);
  process.exit(0);
})();
