/**
 * A holder's touch (fileLock.ts: the save lock, a run's file) sets its file's time by the file
 * system's clock, not by the holder's: on a folder hosts share, a holder whose clock was behind a
 * reader's by two minutes had its live lock taken for dead (utimes(file, now) wrote its own clock).
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { acquireLock, HEARTBEAT_MS } from '../src/storage/fileLock';
import { tempDir } from './support/tmp';

describe("a lock's heartbeat", () => {
  it("leaves the lock's time at the file system's now when this host's clock is an hour behind", async () => {
    const lock = path.join(tempDir(), 'jobs.db.lock');
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    let release: (() => Promise<void>) | undefined;
    try {
      release = await acquireLock(lock, 1000);
      vi.setSystemTime(Date.now() - 3_600_000);
      vi.advanceTimersByTime(HEARTBEAT_MS);
      // The old heartbeat's utimes was asynchronous: give it its turn.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    } finally {
      vi.useRealTimers();
    }
    expect(Math.abs(statSync(lock).mtimeMs - Date.now())).toBeLessThan(10_000);
    await release();
  });
});
