/**
 * A config's diagnostics follow the disk: a path-not-found finding goes once the folder is created
 * in the workspace, and comes back when it is deleted (a review: it stayed until the file was edited).
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DiagnosticsController } from '../src/views/diagnostics';
import { tempDir } from './support/tmp';
import { Uri, diagnosticsPublished, documentOpened, fileSystemWatchers, textDocuments } from './support/vscodeFake';

const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined } as never;
const codes = (file: string): string[] => (diagnosticsPublished.get(file) ?? []).map((d) => String(d.code));

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
      textDocuments.push(doc);
      documentOpened.fire(doc);
      await vi.waitFor(() => expect(codes(file)).toContain('path-not-found'));

      mkdirSync(path.join(dir, 'nope'));
      watcher.created.fire(Uri.file(path.join(dir, 'nope')));
      await vi.waitFor(() => expect(codes(file)).not.toContain('path-not-found'));

      rmSync(path.join(dir, 'nope'), { recursive: true });
      watcher.deleted.fire(Uri.file(path.join(dir, 'nope')));
      await vi.waitFor(() => expect(codes(file)).toContain('path-not-found'));
    } finally {
      controller.dispose();
      textDocuments.length = 0;
    }
  });
});
