/** Logs read from a temporary copy (S3, DBFS) are known by their remote paths (contract.ts remotePath, appAt). */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appAt, problemAt, remotePath, type CollectedApp } from '../src/collectors/contract';
import { makeRecord } from './support/records';

describe('remotePath', () => {
  it('names files under the temp copy by the remote folder they came from, and leaves others alone', () => {
    const temp = path.join('/tmp', 'spark-opt-dbfs-ab12', 'c-1');
    const shown = remotePath(temp, 'dbfs:/logs/c-1/eventlog/');
    expect(shown(path.join(temp, 'ctx-1', 'eventlog'))).toBe('dbfs:/logs/c-1/eventlog/ctx-1/eventlog');
    expect(shown(temp)).toBe('dbfs:/logs/c-1/eventlog');
    expect(shown(`${temp}-other/x`)).toBe(`${temp}-other/x`);
    expect(shown('/elsewhere/x')).toBe('/elsewhere/x');
    const app: CollectedApp = {
      record: makeRecord(),
      problems: [{ severity: 'warning', code: 'w', message: 'm', file: path.join(temp, 'ctx-1', 'eventlog'), line: 3 }],
      files: [path.join(temp, 'ctx-1', 'eventlog')],
      provenance: { path: path.join(temp, 'ctx-1'), files: [{ path: path.join(temp, 'ctx-1', 'eventlog'), size: 1, mtimeMs: 2, codec: 'none' }] },
    };
    const at = appAt(app, shown);
    expect([at.files[0], at.problems[0]!.file, at.provenance.path, at.provenance.files[0]!.path]).toEqual([
      'dbfs:/logs/c-1/eventlog/ctx-1/eventlog',
      'dbfs:/logs/c-1/eventlog/ctx-1/eventlog',
      'dbfs:/logs/c-1/eventlog/ctx-1',
      'dbfs:/logs/c-1/eventlog/ctx-1/eventlog',
    ]);
    expect(problemAt({ severity: 'info', code: 'c', message: 'm' }, shown)).toEqual({ severity: 'info', code: 'c', message: 'm' });
  });
});
