/**
 * A client of an older version, still running while a newer one migrated a shared database, keeps
 * writing what it always wrote: environments, tags and regression checks with secrets in them (a
 * review of the PostgreSQL store, finding 4; the old client cannot be changed). What is read to be
 * shown masks them again with the collectors' rules (storedSecrets.ts shownRecord, shownRegression,
 * shownCheck): show, compare, jobs (JSON, --regressed) and runs on both stores here; the editor's job page,
 * compare page, jobs table, Jobs tree and Open Record as JSON / Export call the same functions.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRun } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import { redactSecrets } from '../src/collectors/record';
import { REDACTED } from '../src/common/secretText';
import { main } from '../src/cli/main';
import { JobStore } from '../src/storage/jobStore';
import { openStore, type Store } from '../src/storage/store';
import { shownCheck, shownRecord, shownRecords, shownRegression } from '../src/storage/storedSecrets';
import { describePostgres, newDatabase } from './support/postgres';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

const SECRETS = ['OLD_CLIENT_PW_1', 'OLD_CLIENT_PW_2', 'TAG_PW_9', 'JAVA_PW_9'];
const env = (pw: string): Record<string, string> => ({
  'spark.executorEnv.DB_PASS': pw,
  'spark.driver.extraJavaOptions': '-Dfoo.pwd=JAVA_PW_9 -Xmx1g',
  'spark.executor.memory': '4g',
});
const run = (id: string, pw: string, failed: number): ReturnType<typeof makeRecord> =>
  makeRecord({ app_id: id, app_name: 'Nightly', environment: env(pw), tags: { state_message: 'jdbc:mysql://u:TAG_PW_9@db/x' }, failed_tasks: failed, start_time: `2024-06-0${id.slice(-1)}T00:00:00.000Z` });

/** What an old client writes: records and a check as they were read, nothing masked. */
function writeAsOldClient(store: Pick<Store, 'upsert' | 'saveRegressions' | 'startRun' | 'finishRun'>): void {
  const baseline = ['app-1', 'app-2', 'app-3'].map((id) => run(id, 'OLD_CLIENT_PW_1', 0));
  const b = run('app-4', 'OLD_CLIENT_PW_2', 20);
  store.upsert([...baseline, b]);
  const check = checkRun(b, baseline, DEFAULT_THRESHOLDS);
  expect(check.status).toBe('regressed');
  expect(check.explanation).toContain('spark.executorEnv.DB_PASS OLD_CLIENT_PW_1 → OLD_CLIENT_PW_2');
  store.saveRegressions([check]);
  store.startRun('r-old', 'logs', { path: '/logs', note: 'pwd=OLD_CLIENT_PW_1' });
  store.finishRun('r-old', { seen: 1, new: 1, updated: 0, unchanged: 0, skipped: 0, failed: 1 }, ['GET http://u:OLD_CLIENT_PW_2@hs/api/v1 failed']);
}

async function cli(...args: string[]): Promise<string> {
  const out: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => out.push(s), isTTY: false, cwd: '/' });
  expect(code, out.join('\n')).toBe(0);
  return out.join('\n');
}

/** Every command that shows an environment, tags or a check, on the database at `db`: none shows a secret. */
async function expectNothingShown(db: string): Promise<void> {
  const outputs = [
    await cli('show', 'app-4', '--db', db, '--format', 'json'),
    await cli('show', 'app-4', '--db', db),
    await cli('compare', 'app-1', 'app-4', '--db', db),
    await cli('compare', 'app-1', 'app-4', '--db', db, '--format', 'json'),
    await cli('jobs', '--db', db, '--format', 'json'),
    await cli('jobs', '--db', db, '--regressed', '--format', 'json'),
    await cli('jobs', '--db', db, '--regressed'),
    await cli('runs', '--db', db, '--format', 'json'),
    await cli('runs', '--db', db),
  ];
  for (const [i, out] of outputs.entries()) for (const secret of SECRETS) expect(out, `output ${i}`).not.toContain(secret);
  const shown = JSON.parse(outputs[0]!) as { environment: Record<string, string>; tags: Record<string, string>; regression: { explanation: string } };
  expect(shown.environment).toEqual(redactSecrets(env('x')));
  expect(shown.tags).toEqual({ state_message: `jdbc:mysql://u:${REDACTED}@db/x` });
  expect(shown.regression.explanation).toContain(`spark.executorEnv.DB_PASS ${REDACTED} → ${REDACTED}`);
}

describe('the embedded file: what an older client stored is never shown', () => {
  it('show, compare and jobs mask it; the file still holds it (only a migration rewrites it)', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const store = await JobStore.open(file);
    try {
      writeAsOldClient(store);
      await store.save();
    } finally {
      store.close();
    }
    await expectNothingShown(file);
    const reader = await JobStore.open(file, { readOnly: true });
    try {
      expect(JSON.stringify(reader.getByAppId('app-4'))).toContain('OLD_CLIENT_PW_2');
    } finally {
      reader.close();
    }
  });
});

describe('db copy', () => {
  it('copies what an older client stored masked: the destination, at the newest schema, has no migration left to hide it', async () => {
    const from = path.join(tempDir(), 'old.db');
    const to = path.join(tempDir(), 'copy.db');
    const store = await JobStore.open(from);
    try {
      writeAsOldClient(store);
      await store.save();
    } finally {
      store.close();
    }
    await cli('db', 'copy', '--from', from, '--to', to);
    const copy = await JobStore.open(to, { readOnly: true });
    try {
      const held = JSON.stringify([copy.list({}), copy.regressions(copy.list({})), copy.listRuns(10)]);
      expect(held).toContain('app-4');
      for (const secret of SECRETS) expect(held).not.toContain(secret);
    } finally {
      copy.close();
    }
  });
});

describePostgres('PostgreSQL: what an older client writes into a migrated database is never shown', (server) => {
  it('show, compare and jobs mask it', async () => {
    const s = server();
    const url = await newDatabase(s);
    const store = await openStore(url, process.cwd(), { password: s.password });
    try {
      writeAsOldClient(store);
      expect(JSON.stringify(store.getByAppId('app-4'))).toContain('OLD_CLIENT_PW_2');
    } finally {
      store.close();
    }
    // The CLI is given the password in the URL (discouraged, but the test's own process environment stays as it is).
    const withPassword = new URL(url);
    withPassword.password = s.password;
    await expectNothingShown(withPassword.toString());
  });
});

describe('the read masks', () => {
  it('leave what has nothing to hide as it is (the same object: nothing copied)', () => {
    const clean = makeRecord({ environment: { 'spark.executor.memory': '4g' }, tags: { team: 'etl' } });
    expect(shownRecord(clean)).toBe(clean);
    const masked = shownRecord(run('app-1', 'OLD_CLIENT_PW_1', 0));
    expect(shownRecord(masked)).toBe(masked);
  });

  it('mask a check and a stored check as the migrations mask their texts', () => {
    const baseline = ['app-1', 'app-2', 'app-3'].map((id) => run(id, 'OLD_CLIENT_PW_1', 0));
    const check = checkRun(run('app-4', 'OLD_CLIENT_PW_2', 20), baseline, DEFAULT_THRESHOLDS);
    const shown = shownCheck(check);
    for (const secret of SECRETS) expect(JSON.stringify(shown)).not.toContain(secret);
    expect(shown.changes!.config!.find((r) => r.key === 'spark.executorEnv.DB_PASS')).toMatchObject({ a: REDACTED, b: REDACTED });
    const stored = shownRegression({ app_id: 'app-4', attempt_id: null, status: 'regressed', summary: check.summary, explanation: check.explanation, check, checked_at: 'now' });
    expect(stored.explanation).toBe(shown.explanation);
    expect(shownRegression(stored).explanation).toBe(stored.explanation);
  });

  it('cost little: 100,000 records of 30 properties shown in a few hundred ms, judged once per name and value', () => {
    const base = Object.fromEntries(Array.from({ length: 28 }, (_, k) => [`spark.some.property${k}`, `value-${k}`]));
    const records = Array.from({ length: 100_000 }, (_, i) => makeRecord({ app_id: `app-${i}`, environment: { ...base, 'spark.app.id': `app-${i}`, 'spark.executorEnv.DB_PASS': `pw${i % 10}` } }));
    const started = performance.now();
    const shown = shownRecords(records);
    const ms = performance.now() - started;
    expect(shown[7]!.environment['spark.executorEnv.DB_PASS']).toBe(REDACTED);
    console.log(`shownRecords: 100,000 records of 30 properties in ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(5000);
  });
});
