/**
 * A config's diagnostics follow the disk: a path-not-found finding goes once the folder is created
 * in the workspace, and comes back when it is deleted (a review: it stayed until the file was edited).
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DiagnosticsController } from '../src/views/diagnostics';
import { tempDir } from './support/tmp';
import { Uri, fileSystemWatchers } from './support/vscodeFake';

const state = vi.hoisted(() => ({
  published: new Map<string, { code: unknown; message: string }[]>(),
  documents: [] as unknown[],
  fireOpen: undefined as undefined | ((doc: unknown) => void),
}));

vi.mock('vscode', async (importOriginal) => {
  const fake = await importOriginal<typeof import('./support/vscodeFake')>();
  const open = new fake.EventEmitter<unknown>();
  state.fireOpen = (doc) => open.fire(doc);
  const never = new fake.EventEmitter<unknown>().event;
  return {
    ...fake,
    languages: {
      createDiagnosticCollection: () => ({
        set: (uri: { fsPath: string }, ds: never[]) => void state.published.set(uri.fsPath, ds),
        delete: () => undefined,
        dispose: () => undefined,
      }),
      registerCodeActionsProvider: () => ({ dispose: () => undefined }),
      registerHoverProvider: () => ({ dispose: () => undefined }),
    },
    workspace: {
      ...fake.workspace,
      onDidOpenTextDocument: open.event,
      onDidChangeTextDocument: never,
      onDidCloseTextDocument: never,
      get textDocuments() {
        return state.documents;
      },
    },
  };
});

const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined } as never;
const codes = (file: string): string[] => (state.published.get(file) ?? []).map((d) => String(d.code));

describe('config diagnostics and the disk', () => {
  it('path-not-found goes when the folder is created and comes back when it is deleted, without an edit', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'spark-optimizer.yaml');
    const text = 'sources:\n  - type: event_log\n    name: nightly\n    path: ./nope\n';
    const doc = { uri: { scheme: 'file', fsPath: file, toString: () => `file://${file}` }, fileName: file, languageId: 'yaml', version: 1, isClosed: false, getText: () => text };
    const controller = new DiagnosticsController({} as never, log);
    try {
      const watcher = fileSystemWatchers.at(-1)!;
      expect(watcher.glob).toBe('**/*');
      state.documents.push(doc);
      state.fireOpen!(doc);
      await vi.waitFor(() => expect(codes(file)).toContain('path-not-found'));

      mkdirSync(path.join(dir, 'nope'));
      watcher.created.fire(Uri.file(path.join(dir, 'nope')));
      await vi.waitFor(() => expect(codes(file)).not.toContain('path-not-found'));

      rmSync(path.join(dir, 'nope'), { recursive: true });
      watcher.deleted.fire(Uri.file(path.join(dir, 'nope')));
      await vi.waitFor(() => expect(codes(file)).toContain('path-not-found'));
    } finally {
      controller.dispose();
      state.documents.length = 0;
    }
  });
});
