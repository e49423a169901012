/**
 * `BENCH_ONLY=views npm run bench` (issue 15): how long the editor's views take to show, each as the
 * host's part (reading the store and building the view model, in this process) plus the page's part
 * (the built webview bundle drawing that model in headless Chromium, from its first script line until
 * the content is on screen, two animation frames after). Targets: the Job page of an application with
 * 2,000 stages in < 500 ms; the Jobs table's first page over 100,000 jobs in < 300 ms.
 *
 * The page runs its real bundle (dist/webview/<bundle>.js and .css) with a stand-in for VS Code's
 * webview API that answers the page's requests with the messages the host built. Without Chromium
 * (/usr/bin/chromium, installed by scripts/e2e/setup.sh) the page's part is reported as not measured.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { JobStore } from '../src/storage/jobStore';
import { jobPageModel } from '../src/views/jobPage/model';
import { COLUMNS, DEFAULT_QUERY, PAGE_ROWS, QUICK_FILTERS, tableChoices, tablePage, type TableQuery } from '../src/views/jobsTable/model';
import { manyRecords, sparkLikeEnvironment } from '../test/support/records';
import { realisticSummaries } from '../test/support/summaries';

const CHROMIUM = '/usr/bin/chromium';

function timed<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const v = fn();
  return [v, performance.now() - t];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * Milliseconds from the page's first script line until `ready()` holds, two frames after, best of
 * `runs`. `answers(message)` is what the host would post back for a message the page sends.
 */
async function pageMs(bundle: string, ready: string, answers: Record<string, unknown[]>, runs: number): Promise<number | string> {
  if (!existsSync(CHROMIUM)) return `not measured (no ${CHROMIUM}: run bash scripts/e2e/setup.sh)`;
  const dist = path.resolve('dist', 'webview');
  const js = readFileSync(path.join(dist, `${bundle}.js`), 'utf8');
  const css = readFileSync(path.join(dist, `${bundle}.css`), 'utf8');
  // The host's answers, by the type of the page's message; a `rows` answer takes the request's id.
  const stub = `
    window.__t0 = performance.now();
    const answers = ${JSON.stringify(answers)};
    window.acquireVsCodeApi = () => ({ getState: () => undefined, setState: () => {}, postMessage: (m) => {
      for (const a of answers[m.type] ?? []) setTimeout(() => window.postMessage(a.type === 'rows' ? { ...a, id: m.id } : a, '*'), 0);
    } });
    const done = () => (${ready}) ? requestAnimationFrame(() => requestAnimationFrame(() => { window.__t1 = performance.now(); })) : requestAnimationFrame(done);
    requestAnimationFrame(done);`;
  // Under the same Content-Security-Policy as in VS Code (webviewHtml.ts): nonce'd script and style only, no inline style attributes.
  const csp = `default-src 'none'; img-src data:; style-src 'nonce-bench'; script-src 'nonce-bench'`;
  const html = `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="${csp}"><style nonce="bench">${css}</style></head><body class="vscode-dark"><main id="app" aria-busy="true"></main><script nonce="bench">${stub}</script><script nonce="bench">${js}</script></body></html>`;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.setContent(html);
      await page.waitForFunction(() => (window as unknown as { __t1?: number }).__t1 !== undefined, undefined, { timeout: 30_000 });
      if (errors.length > 0) throw new Error(`${bundle}: ${errors.join('; ')}`);
      times.push(await page.evaluate(() => (window as unknown as { __t1: number; __t0: number }).__t1 - (window as unknown as { __t0: number }).__t0));
      await page.close();
    }
    return Math.min(...times);
  } finally {
    await browser.close();
  }
}

const verdict = (ms: number, target: number): string => `${ms.toFixed(0)} ms (${(ms / target).toFixed(2)}x the ${target} ms target${ms <= target ? '' : ': NOT MET'})`;

function total(hostMs: number, page: number | string, target: number): string {
  return typeof page === 'number' ? `host ${hostMs.toFixed(0)} ms + page ${page.toFixed(0)} ms = ${verdict(hostMs + page, target)}` : `host ${hostMs.toFixed(0)} ms; page ${page}`;
}

/** The Job page: a stored application with 2,000 stages and 200 executors, read and drawn. */
async function jobPageFigures(dir: string): Promise<string> {
  const store = await JobStore.open(path.join(dir, 'job.db'));
  const [record] = manyRecords(1);
  const key = { app_id: record!.app_id, attempt_id: record!.attempt_id };
  store.upsert([{ record: { ...record!, environment: sparkLikeEnvironment(1), total_stages: 2_000 }, summaries: realisticSummaries(1, 2_000, 200) }]);
  const parts: [number, number, number][] = [];
  let message: unknown;
  for (let i = 0; i < 5; i++) {
    const [read, readMs] = timed(() => [store.get(key)!, store.summariesOf(key)] as const);
    const [model, modelMs] = timed(() => jobPageModel(read[0], read[1]));
    const copyMs = timed(() => {
      message = JSON.parse(JSON.stringify({ type: 'model', model, eventLog: { path: null, note: 'bench' } })); // what postMessage copies
    })[1];
    parts.push([readMs, modelMs, copyMs]);
  }
  store.close();
  const [readMs, modelMs, copyMs] = [0, 1, 2].map((k) => median(parts.map((p) => p[k]!)));
  const hostMs = readMs! + modelMs! + copyMs!;
  const page = await pageMs('jobPage', "document.querySelectorAll('table.stages tbody tr').length > 0 && document.querySelectorAll('.chart canvas').length >= 2", { ready: [message] }, 3);
  return `Job page, 2,000 stages / 200 executors: ${total(hostMs, page, 500)} (host: store ${readMs!.toFixed(0)} ms, model ${modelMs!.toFixed(0)} ms, message copy ${copyMs!.toFixed(0)} ms)`;
}

/** The Jobs table: 100,000 stored jobs, the first page under a few queries, and the default one drawn. */
async function jobsTableFigures(dir: string): Promise<string> {
  const rows = Number(process.env.BENCH_TABLE_ROWS ?? 100_000);
  const store = await JobStore.open(path.join(dir, 'table.db'));
  for (let i = 0; i < rows; i += 1_000) store.upsert(manyRecords(Math.min(1_000, rows - i), i).map((r, k) => ({ ...r, environment: sparkLikeEnvironment(i + k) })));
  await store.save();
  const queries: [string, TableQuery][] = [
    ['newest first', DEFAULT_QUERY],
    ['by duration', { ...DEFAULT_QUERY, sort: 'duration_ms' }],
    ['by shuffle read, ascending', { ...DEFAULT_QUERY, sort: 'shuffle_read_bytes', descending: false }],
    ['failed tasks > 0, by spill', { ...DEFAULT_QUERY, conditions: 'failed>0', sort: 'disk_spilled_bytes' }],
    ['search "etl", by CPU', { ...DEFAULT_QUERY, text: 'etl', sort: 'cpu_time_ms' }],
    // Text sorts ignore case (repository.ts sortKey): no index serves them.
    ['by name', { ...DEFAULT_QUERY, sort: 'app_name', descending: false }],
    ['by status', { ...DEFAULT_QUERY, sort: 'status', descending: false }],
    ['scrolled to row 50,000 (no count)', DEFAULT_QUERY],
  ];
  const lines: string[] = [];
  let first: unknown;
  let defaultHostMs = 0;
  for (const [label, q] of queries) {
    const offset = label.startsWith('scrolled') ? 50_000 : 0;
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      runs.push(
        timed(() => {
          const p = tablePage(store, q, offset, PAGE_ROWS, { count: offset === 0 });
          if ('errors' in p) throw new Error(p.errors.join('; '));
          if (label === 'newest first') first = JSON.parse(JSON.stringify({ type: 'rows', id: 0, ...p, ms: 0 }));
        })[1],
      );
    }
    const ms = median(runs);
    if (label === 'newest first') defaultHostMs = ms;
    lines.push(`${label} ${ms.toFixed(0)} ms`);
  }
  const init = { type: 'init', columns: COLUMNS, choices: tableChoices(store), quickFilters: QUICK_FILTERS };
  store.close();
  const page = await pageMs('jobsTable', "document.querySelectorAll('.rows .row:not(.loading)').length > 20", { ready: [init], rows: [first] }, 3);
  return `Jobs table, first page of ${PAGE_ROWS} over ${rows.toLocaleString('en-US')} jobs: ${total(defaultHostMs, page, 300)}\n                       host, other queries (page + count): ${lines.join(', ')}`;
}

export async function viewsFigures(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-views-'));
  try {
    return [await jobPageFigures(dir), await jobsTableFigures(dir)].join('\n                       ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
