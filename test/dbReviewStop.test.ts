/**
 * `spark-optimizer db copy` stopped (Ctrl+C) only once every record, known file and run was copied,
 * during the last save (a review): it said "Stopped: … files and runs not copied. Run it again to
 * finish" and exited 130, though everything had been copied and saved. A stop that comes after the
 * last page was read changes nothing the copy does, so the copy says what it did and exits 0.
 */
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dbCommand } from '../src/cli/dbCommand';
import { JobStore } from '../src/storage/jobStore';
import { manyRecords } from './support/records';
import { tempDir } from './support/tmp';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('db copy: a Ctrl+C during the last save', () => {
  it('reports the whole copy (exit 0), not a stop that left files and runs behind', async () => {
    const dir = tempDir();
    const from = path.join(dir, 'from.db');
    const to = path.join(dir, 'to.db');
    const source = await JobStore.open(from);
    source.upsert(manyRecords(30));
    source.startRun('run-1', 'hs', {}, new Date(Date.UTC(2024, 0, 1)));
    source.finishRun('run-1', { seen: 30, new: 30, updated: 0, unchanged: 0, skipped: 0, failed: 0 }, [], new Date(Date.UTC(2024, 0, 1, 0, 1)));
    await source.save();
    source.close();
    // The copy saves its destination once here (30 records, under a second): then comes the Ctrl+C.
    const realSave = Object.getOwnPropertyDescriptor(JobStore.prototype, 'save')!.value as JobStore['save'];
    vi.spyOn(JobStore.prototype, 'save').mockImplementation(function (this: JobStore) {
      process.emit('SIGINT');
      return realSave.call(this);
    });
    const out: string[] = [];
    const err: string[] = [];
    const code = await dbCommand(['copy', '--from', from, '--to', to], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: dir });
    vi.restoreAllMocks();
    const copy = await JobStore.open(to);
    expect([copy.count(), copy.listRuns(10).length]).toEqual([30, 1]);
    copy.close();
    expect(err.join('\n')).not.toMatch(/Stopped/);
    expect(out.join('\n')).toMatch(/^30 new, 0 updated, 0 unchanged, 0 regression checks, 0 known files, 1 collection run copied from /);
    expect(code).toBe(0);
  });
});
