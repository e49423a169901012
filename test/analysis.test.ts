import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeConfig, didYouMean } from '../src/analysis/configAnalyzer';
import { analyzeEventLogFile, analyzeEventLogText, folderIndex, partPosition, readsFolderNames, siblingsFor } from '../src/analysis/eventLogAnalyzer';
import type { Finding, FindingSeverity } from '../src/analysis/findings';
import { describeConfigKey, describeEvent } from '../src/analysis/hover';
import { eventLogText } from './support/eventLogGenerator';
import { describeShared, sharedPath } from './support/shared';
import { lz4BlockStream } from './support/sparkCompress';
import { tempDir } from './support/tmp';

/** A finding as the assertions spell it: code, severity, 0-based [line, startCol, endLine, endCol]. */
function f(code: string, severity: FindingSeverity, at: [number, number, number, number]): Pick<Finding, 'code' | 'severity' | 'range'> {
  return { code, severity, range: { start: { line: at[0], character: at[1] }, end: { line: at[2], character: at[3] } } };
}
const shape = (findings: Finding[]): Pick<Finding, 'code' | 'severity' | 'range'>[] => findings.map(({ code, severity, range }) => ({ code, severity, range }));

const good = eventLogText({ stages: 2, tasksPerStage: 3 });
const goodLines = good.text.trimEnd().split('\n');
const at = (pred: (l: string) => boolean): number => goodLines.findIndex(pred);

describe('event-log analyzer', () => {
  it('finds nothing wrong in a good log', () => {
    expect(analyzeEventLogText(good.text, { fileName: 'app-1' })).toEqual([]);
  });

  it('malformed JSON: error with the column where parsing failed', () => {
    const lines = [...goodLines];
    const i = at((l) => l.includes('SparkListenerJobStart'));
    lines[i] = lines[i]!.replace('"Job ID":0', '"Job ID":0,,');
    const findings = analyzeEventLogText(`${lines.join('\n')}\n`, { fileName: 'app-1' });
    const col = lines[i].indexOf(',,') + 1;
    expect(shape(findings)).toEqual([f('malformed-json', 'error', [i, col, i, lines[i].length])]);
    expect(findings[0]!.message).toMatch(new RegExp(`column ${col + 1}`));
  });

  it('a line without Event, an unknown event type (once), a task of a stage never submitted', () => {
    const lines = [...goodLines];
    const task = at((l) => l.includes('SparkListenerTaskEnd'));
    lines[task] = lines[task]!.replace('"Stage ID":0', '"Stage ID":42');
    lines.splice(2, 0, '{"no":"event"}', '{"Event":"com.acme.AuditEvent","who":"x"}', '{"Event":"com.acme.AuditEvent","who":"y"}');
    const findings = analyzeEventLogText(`${lines.join('\n')}\n`, { fileName: 'app-1' });
    const custom = lines[3]!.indexOf('com.acme.AuditEvent');
    expect(shape(findings)).toEqual([
      f('missing-event', 'error', [2, 0, 2, 14]),
      f('unknown-event', 'information', [3, custom, 3, custom + 'com.acme.AuditEvent'.length]),
      f('task-for-unknown-stage', 'warning', [task + 3, 0, task + 3, lines[task + 3]!.length]),
    ]);
  });

  it('missing start, log start, environment and end events', () => {
    const kept = goodLines.filter((l) => !/SparkListener(LogStart|ApplicationStart|EnvironmentUpdate|ApplicationEnd)"/.test(l));
    const findings = analyzeEventLogText(`${kept.join('\n')}\n`, { fileName: 'app-1' });
    const last = kept.length - 1;
    // A whole log without its start: collection's own warning, as collect reports it.
    expect(shape(findings)).toEqual([
      f('record-inconsistent', 'warning', [0, 0, 0, 0]),
      f('missing-environment-update', 'warning', [0, 0, 0, 0]),
      f('missing-log-start', 'information', [0, 0, 0, 0]),
      f('missing-application-end', 'warning', [last, 0, last, kept[last]!.length]),
    ]);
  });

  it('a cut-off last line: truncated in a finished copy, normal in an .inprogress file', () => {
    const running = eventLogText({ running: true, stages: 1, tasksPerStage: 2 }).text;
    const cut = `${running}{"Event":"SparkListenerTaskEnd","Stage`;
    const n = running.split('\n').length - 1;
    expect(shape(analyzeEventLogText(cut, { fileName: 'app-1' }))).toEqual([
      f('truncated-line', 'warning', [n, 0, n, 38]),
      f('missing-application-end', 'warning', [n, 0, n, 38]),
    ]);
    expect(analyzeEventLogText(cut, { fileName: 'app-1' }).find((x) => x.code === 'missing-application-end')!.message).toMatch(/most likely truncated/);
    expect(shape(analyzeEventLogText(cut, { fileName: 'app-1.inprogress' }))).toEqual([
      f('truncated-line', 'information', [n, 0, n, 38]),
      f('missing-application-end', 'information', [n, 0, n, 38]),
    ]);
  });

  it('impossible metrics and times', () => {
    const lines = [...goodLines];
    const task = at((l) => l.includes('SparkListenerTaskEnd'));
    lines[task] = lines[task]!.replace(/"Memory Bytes Spilled":\d+/, '"Memory Bytes Spilled":-5');
    const end = at((l) => l.includes('SparkListenerApplicationEnd'));
    lines[end] = `{"Event":"SparkListenerApplicationEnd","Timestamp":${good.totals.start_ms - 60_000}}`;
    const findings = analyzeEventLogText(`${lines.join('\n')}\n`, { fileName: 'app-1' });
    const spill = lines[task].indexOf('"Memory Bytes Spilled":-5');
    // The end before the start is collection's time-order error, at the ApplicationEnd's line (as
    // collect reports it); a negative metric is Spark's unknown, as collection takes it.
    expect(shape(findings)).toEqual([f('negative-metric', 'information', [task, spill, task, spill + '"Memory Bytes Spilled":-5'.length]), f('time-order', 'error', [end, 0, end, 0])]);
  });

  it('names the properties the record had to default, on the EnvironmentUpdate line', () => {
    const env = at((l) => l.includes('SparkListenerEnvironmentUpdate'));
    const lines = [...goodLines];
    lines[env] = lines[env]!.replace('"spark.executor.cores":"2",', '');
    const findings = analyzeEventLogText(`${lines.join('\n')}\n`, { fileName: 'app-1' });
    expect(shape(findings)).toEqual([f('defaulted-property', 'information', [env, 0, env, lines[env].length])]);
    expect(findings[0]!.message).toMatch(/spark\.executor\.cores is not set: the record uses the executors' Total Cores, else 1/);
  });

  it('knows where a file sits in a rolling or Databricks log', () => {
    expect(partPosition('events_2_app', ['events_1_app', 'events_3_app', 'appstatus_app'])).toEqual({ first: false, last: false });
    expect(partPosition('events_3_app', ['events_1_app', 'events_2_app.compact'])).toEqual({ first: false, last: true });
    expect(partPosition('events_2_app.compact', ['events_3_app'])).toEqual({ first: true, last: false });
    expect(partPosition('eventlog', ['eventlog-2024-01-01--10-00.gz'])).toEqual({ first: false, last: true });
    expect(partPosition('eventlog-2024-01-01--10-00.gz', ['eventlog'])).toEqual({ first: true, last: false });
    expect(partPosition('app-1', [])).toEqual({ first: true, last: true });
    // Not a Databricks part by discovery's rule (a name after the time): a whole log, as collect reads it.
    expect(partPosition('eventlog-2024-01-01--10-00-copy', ['eventlog'])).toEqual({ first: true, last: true });
  });

  it("finds the same with a log's group of its folder's names (siblingsFor) as with every name, its own among them or not", () => {
    // Folders as validate and the editor's check of logs on disk meet them; each log of each is read
    // as a whole log, a first, a middle and a last part (the findings depend on where it sits).
    const folders = [
      ['events_1_app', 'events_2_app', 'events_3_app', 'appstatus_app'],
      ['events_1_app', 'events_2_app.compact', 'events_3_app', 'events_5_app.lz4'],
      ['events_1_a', 'events_2_a', 'events_1_b', 'events_3_b', 'appstatus_b.inprogress', 'app-7', 'eventlog'],
      ['eventlog', 'eventlog-2024-01-01--10-00.gz', 'eventlog-2024-01-01--11-00.gz'],
      ['eventlog-2024-01-01--10-00.gz', 'eventlog-2024-01-01--11-00.gz', 'app-1.zstd', 'EVENT_LOG_1', 'APPLICATION_COMPLETE'],
      ['app-1', 'app-2.inprogress', 'local-3.snappy'],
    ];
    const start = goodLines.filter((l) => !l.includes('ApplicationEnd'));
    const middle = goodLines.filter((l) => l.includes('SparkListenerTask') || l.includes('Stage'));
    const end = goodLines.filter((l) => !l.includes('ApplicationStart') && !l.includes('EnvironmentUpdate'));
    const texts = [good.text, ...[start, middle, end].map((lines) => `${lines.join('\n')}\n`)];
    let compared = 0;
    const seen = new Set<string>();
    for (const names of folders) {
      const index = folderIndex(names);
      for (const name of names) {
        for (const text of texts) {
          const whole = analyzeEventLogText(text, { fileName: name, siblings: names });
          expect(analyzeEventLogText(text, { fileName: name, siblings: names.filter((n) => n !== name) }), name).toEqual(whole);
          expect(analyzeEventLogText(text, { fileName: name, siblings: siblingsFor(name, index) }), name).toEqual(whole);
          seen.add(whole.map((w) => w.code).join());
          compared++;
        }
      }
    }
    expect(compared).toBe(4 * folders.flat().length);
    // Not all alike: the folders above give rolling parts with parts missing or not, appstatus or not, first and last parts.
    expect(seen.size).toBeGreaterThanOrEqual(12);
    // A whole log's group is empty; a rolling part's is its application's parts and one appstatus file.
    expect(siblingsFor('app-7', folderIndex(folders[2]!))).toEqual([]);
    expect(siblingsFor('events_3_b', folderIndex(folders[2]!))).toEqual(['events_1_b', 'events_3_b', 'appstatus_b.inprogress']);
    expect(siblingsFor('eventlog', folderIndex(folders[3]!))).toEqual(folders[3]);
    // The editor lists a document's folder only for the names that read it.
    expect(['events_2_app', 'events_5_app.lz4', 'eventlog', 'eventlog-2024-01-01--10-00.gz', 'app-1', 'local-3.snappy', 'EVENT_LOG_1', 'eventlog-2024-01-01--10-00-copy'].map(readsFolderNames)).toEqual([true, true, true, true, false, false, false, false]);
  });

  it('notes missing parts of a rolling log', () => {
    const middle = goodLines.filter((l) => l.includes('SparkListenerTask') || l.includes('Stage'));
    const findings = analyzeEventLogText(`${middle.join('\n')}\n`, { fileName: 'events_3_app', siblings: ['events_1_app'] });
    const last = middle.length - 1;
    expect(shape(findings)).toEqual([
      f('rolling-part-missing', 'warning', [0, 0, 0, 0]),
      f('rolling-status-missing', 'information', [0, 0, 0, 0]),
      f('missing-application-end', 'warning', [last, 0, last, middle[last]!.length]),
    ]);
    expect(findings[0]!.message).toMatch(/part 3 .* part 2 is missing/);
  });

  it('takes a compacted part without a codec as compacted: the parts it replaced are not missing', () => {
    const end = goodLines.filter((l) => !l.includes('ApplicationStart') && !l.includes('EnvironmentUpdate'));
    const findings = analyzeEventLogText(`${end.join('\n')}\n`, { fileName: 'events_4_app', siblings: ['events_3_app.compact', 'events_4_app', 'appstatus_app'] });
    expect(findings.map((x) => x.code)).not.toContain('rolling-part-missing');
    expect(partPosition('events_3_app.compact', ['events_4_app'])).toEqual({ first: true, last: false });
  });

  it("a part whose folder could not be listed is not blamed for the start or end only its neighbours hold", () => {
    const middle = `${goodLines.filter((l) => l.includes('SparkListenerTask') || l.includes('Stage')).join('\n')}\n`;
    const codes = (siblings: readonly string[] | undefined): string[] => analyzeEventLogText(middle, { fileName: 'events_2_app', siblings }).map((x) => x.code);
    // Listed, alone: it is the first and last part, a whole log, and lacks what those hold (its start: collection's record-inconsistent).
    expect(codes([])).toEqual(expect.arrayContaining(['record-inconsistent', 'missing-application-end']));
    // Not listed: where it sits is unknown.
    expect(codes(undefined)).not.toEqual(expect.arrayContaining(['missing-application-start']));
    expect(codes(undefined)).not.toContain('record-inconsistent');
    expect(codes(undefined)).not.toContain('missing-application-end');
  });

  it("rates a cut-off compressed log as collection does: information while it is being written, a warning in its last part, an error in a part others follow", async () => {
    const dir = tempDir();
    const whole = lz4BlockStream(Buffer.from(good.text), { blockSize: 4096 });
    const cut = path.join(dir, 'events_2_app.lz4');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const severity = async (ctx: { siblings: string[]; inProgress?: boolean }): Promise<string | undefined> => (await analyzeEventLogFile(cut, ctx)).find((x) => x.code === 'codec-truncated')?.severity;
    expect(await severity({ siblings: ['events_1_app', 'events_2_app.lz4'], inProgress: true })).toBe('information');
    expect(await severity({ siblings: ['events_1_app', 'events_2_app.lz4'], inProgress: false })).toBe('warning');
    expect(await severity({ siblings: ['events_1_app', 'events_2_app.lz4', 'events_3_app'] })).toBe('error');
  });

  it('analyzes compressed logs from disk, and reports a corrupt codec stream', async () => {
    const dir = tempDir();
    const lines = [...goodLines];
    lines[5] = '{"Event":';
    writeFileSync(path.join(dir, 'app-1.lz4'), lz4BlockStream(Buffer.from(`${lines.join('\n')}\n`)));
    expect(shape(await analyzeEventLogFile(path.join(dir, 'app-1.lz4')))).toEqual([f('malformed-json', 'error', [5, 9, 5, 9])]);
    writeFileSync(path.join(dir, 'app-2.lz4'), good.text);
    expect(shape(await analyzeEventLogFile(path.join(dir, 'app-2.lz4')))).toEqual([f('codec-corrupt', 'error', [0, 0, 0, 0]), f('no-events', 'error', [0, 0, 0, 0])]);
  });
});

describe('a Spark 1.x log without LogStart', () => {
  it("says where spark_version comes from: the folder's SPARK_VERSION file when discovery found one, as collection takes it", () => {
    const lines = eventLogText({ appId: 'app-old' }).text.split('\n').filter((l) => !l.includes('SparkListenerLogStart'));
    const message = (sparkVersion?: string): string | undefined => analyzeEventLogText(lines.join('\n'), { fileName: 'EVENT_LOG_1', sparkVersion }).find((f) => f.code === 'missing-log-start')?.message;
    expect(message()).toMatch(/spark_version stays empty\.$/);
    expect(message('1.2.0')).toMatch(/spark_version is taken from the folder's SPARK_VERSION_1\.2\.0 file\.$/);
  });
});

describe('broken-log corpus made from a good log', () => {
  const cases: [string, (lines: string[]) => string, string[]][] = [
    ['truncated in the middle', (l) => l.join('\n').slice(0, Math.floor(l.join('\n').length / 2)), ['truncated-line', 'missing-application-end']],
    ['a corrupted line', (l) => `${l.map((x, i) => (i === 6 ? x.slice(0, 20) + '\u0000' + x.slice(21) : x)).join('\n')}\n`, ['malformed-json']],
    ['events dropped', (l) => `${l.filter((x) => !x.includes('StageSubmitted')).join('\n')}\n`, ['task-for-unknown-stage']],
    ['lines reordered', (l) => `${[...l.slice(0, 5), ...l.slice(-1), ...l.slice(5, -1)].join('\n')}\n`, ['time-backwards']],
    ['empty', () => '', ['no-events']],
  ];
  it.each(cases)('%s', (_name, breakIt, codes) => {
    const findings = analyzeEventLogText(breakIt(goodLines), { fileName: 'app-1' });
    expect([...new Set(findings.filter((x) => x.severity !== 'information' || x.code === 'no-events').map((x) => x.code))]).toEqual(codes);
  });
});

describeShared('analyzers on the real logs', () => {
  const logs = [
    ...readdirSync(sharedPath('spark-events', 'spark-events')).flatMap((n) => {
      const p = sharedPath('spark-events', 'spark-events', n);
      return statSync(p).isDirectory() ? readdirSync(p).filter((x) => x.startsWith('events_')).map((x) => path.join(p, x)) : [p];
    }),
    ...readdirSync(sharedPath('real-logs')).filter((n) => n.startsWith('eventlog_v2_')).map((n) => path.join(sharedPath('real-logs', n), `events_1_${n.replace('eventlog_v2_', '')}`)),
  ];
  it.each(logs)('%s has no errors or warnings', async (file) => {
    const findings = await analyzeEventLogFile(file, { siblings: readdirSync(path.dirname(file)) });
    expect(findings.filter((x) => x.severity === 'error' || x.severity === 'warning')).toEqual([]);
  });
});

describe('config analyzer', () => {
  const check = (text: string, exists = (_p: string) => true): Finding[] => analyzeConfig(text, { baseDir: '/cfg', exists });

  it('accepts both forms with no findings', () => {
    expect(check('collector:\n  type: event_log\n  path: logs\n')).toEqual([]);
    expect(check('sources:\n  - name: a\n    type: event_log\n    path: [a, b]\n  - name: hs\n    type: history_server\n    history_server_url: https://h:18080\n    token: ${env:HS_TOKEN}\n')).toEqual([]);
  });

  it('unknown keys with "did you mean" and a rename fix; missing required key', () => {
    const findings = check('collector:\n  type: event_log\n  pathh: logs\n');
    expect(shape(findings)).toEqual([f('missing-key', 'error', [1, 8, 1, 17]), f('unknown-key', 'error', [2, 2, 2, 7])]);
    expect(findings[1]!.message).toMatch(/Did you mean "path"/);
    expect(findings[1]!.fixes).toEqual([{ title: 'Rename to "path"', range: findings[1]!.range, newText: 'path' }]);
    // A misspelt word inside a longer key gets the fix too (issue 16).
    const inside = check('collector:\n  type: event_log\n  event_log_pth: logs\n').find((x) => x.code === 'unknown-key')!;
    expect(inside.message).toMatch(/Did you mean "path"/);
    expect(inside.fixes?.[0]?.title).toBe('Rename to "path"');
  });

  it('wrong types, out-of-range numbers, non-http URLs, paths that do not exist', () => {
    const text = ['sources:', '  - name: a', '    type: event_log', '    path: nowhere', '    batch_size: 0', '    recursive: "yes"', '  - name: b', '    type: history_server', '    history_server_url: ftp://h', '    timeout: 9999', ''].join('\n');
    const findings = check(text, (p) => p !== '/cfg/nowhere');
    expect(shape(findings)).toEqual([
      f('path-not-found', 'error', [3, 10, 3, 17]),
      f('invalid-value', 'error', [4, 16, 4, 17]),
      f('invalid-value', 'error', [5, 15, 5, 20]),
      f('invalid-value', 'error', [8, 24, 8, 31]),
      f('invalid-value', 'error', [9, 13, 9, 17]),
    ]);
    expect(findings[3]!.message).toMatch(/http:\/\/ or https:\/\//);
  });

  it('inline secrets: warning with an ${env:…} fix; duplicate names; unknown type', () => {
    // A source collect drops for its own errors (the unknown type) clashes with no name, as in collect.
    const text = ['sources:', '  - name: hs', '    type: history_server', '    history_server_url: http://h', '    password: hunter2', '  - name: hs', '    type: databrick', '  - name: hs', '    type: event_log', '    path: logs', ''].join('\n');
    const findings = check(text);
    expect(shape(findings)).toEqual([f('inline-secret', 'warning', [4, 14, 4, 21]), f('invalid-value', 'error', [6, 10, 6, 19]), f('duplicate-name', 'error', [7, 10, 7, 12])]);
    expect(findings[0]!.fixes![0]!.newText).toBe('${env:SPARK_OPTIMIZER_HS_PASSWORD}');
    expect(findings[0]!.message).not.toContain('hunter2');
    expect(findings[1]!.message).toMatch(/Did you mean "databricks"/);
  });

  it('cloud sources: their keys are checked too (did-you-mean, enums, inline tokens)', () => {
    const text = ['sources:', '  - name: e', '    type: emr', '    regoin: us-east-1', '    cluster_states: [RUNING]', '  - name: d', '    type: databricks', '    host: https://dbc-1.cloud.databricks.com', '    token: dapi0123456789', '  - name: g', '    type: dataproc', '    project_id: p', '    access_token: ${env:GCP_TOKEN}', ''].join('\n');
    const findings = check(text);
    expect(findings.map((x) => [x.code, x.severity, x.range.start.line])).toEqual([
      ['unknown-key', 'error', 3],
      ['invalid-value', 'error', 4],
      ['inline-secret', 'warning', 8],
    ]);
    expect(findings[0]!.message).toMatch(/Did you mean "region"/);
    expect(findings[2]!.message).not.toContain('dapi0123456789');
    expect(findings[2]!.fixes![0]!.newText).toBe('${env:SPARK_OPTIMIZER_D_TOKEN}');
  });

  it('regression thresholds (issue 18): a bad value is an error on the value naming its key; an unknown key gets "did you mean", once', () => {
    const text = ['sources:', '  - name: a', '    type: event_log', '    path: logs', '    regression:', '      factor: 0.5', '      baseline_runs: 2', '      fator: 2', ''].join('\n');
    const findings = check(text);
    expect(shape(findings)).toEqual([f('invalid-value', 'error', [5, 14, 5, 17]), f('invalid-value', 'error', [6, 21, 6, 22]), f('unknown-key', 'error', [7, 6, 7, 11])]);
    expect(findings[0]!.message).toBe('"regression.factor": Too small: expected number to be >=1.');
    expect(findings[1]!.message).toBe('"regression.baseline_runs": Too small: expected number to be >=3.');
    expect(findings[2]!.message).toBe('Unknown key "fator" at source 1 regression. Did you mean "factor"?');
    expect(check('collector:\n  type: emr\n  regression: 2\n').map((x) => x.message)).toEqual(['"regression": Invalid input: expected object, received number.']);
    expect(check('collector:\n  type: emr\n  regression:\n    min_increase_mb: 512\n')).toEqual([]);
  });

  it('YAML syntax errors and a config of the wrong shape', () => {
    expect(shape(check('sources:\n  - name: [unclosed\n'))[0]!.code).toBe('yaml-syntax');
    expect(shape(check('colector:\n  type: event_log\n'))).toEqual([f('unknown-key', 'error', [0, 0, 0, 8]), f('config-shape', 'error', [0, 0, 0, 0])]);
  });

  it('suggests only close words', () => {
    expect(didYouMean('batchsize', ['batch_size', 'path'])).toBe('batch_size');
    expect(didYouMean('zzz', ['batch_size', 'path'])).toBeUndefined();
    // A misspelt word inside a longer key (issue 16): its last words, after a prefix the writer added.
    expect(didYouMean('event_log_pth', ['path', 'batch_size', 'max_line_mb'])).toBe('path');
    expect(didYouMean('server_ulr', ['url', 'token', 'max_apps'])).toBe('url');
    expect(didYouMean('spark_max_line_mbb', ['path', 'max_line_mb'])).toBe('max_line_mb');
    // ... but not a short or distant tail.
    expect(didYouMean('my_id', ['url', 'path'])).toBeUndefined();
    expect(didYouMean('event_log_color', ['path', 'url'])).toBeUndefined();
  });
});

describe('spark-optimizer validate', () => {
  it('prints compiler-style lines or JSON lines and exits 1 on errors', async () => {
    const { spawnSync } = await import('node:child_process');
    const dir = tempDir();
    mkdirSync(path.join(dir, 'logs'));
    const lines = [...goodLines];
    lines[5] = `${lines[5]!.slice(0, 30)}`;
    writeFileSync(path.join(dir, 'logs', 'app-bad'), `${lines.join('\n')}\n`);
    writeFileSync(path.join(dir, 'logs', 'app-good'), good.text);
    writeFileSync(path.join(dir, 'spark-optimizer.yaml'), 'collector:\n  type: event_log\n  path: logs\n');
    const cli = path.resolve(__dirname, '..', 'dist', 'cli.js');
    const text = spawnSync(process.execPath, [cli, 'validate', dir], { encoding: 'utf8' });
    expect(text.status).toBe(1);
    expect(text.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${path.join(dir, 'logs', 'app-bad')}:6:\\d+: error malformed-json `))]);
    expect(text.stderr).toMatch(/3 files checked: 1 error, 0 warnings/);
    const json = spawnSync(process.execPath, [cli, 'validate', path.join(dir, 'logs', 'app-bad'), '--format', 'json'], { encoding: 'utf8' });
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ file: path.join(dir, 'logs', 'app-bad'), line: 6, severity: 'error', code: 'malformed-json' });
    const clean = spawnSync(process.execPath, [cli, 'validate', path.join(dir, 'logs', 'app-good'), path.join(dir, 'spark-optimizer.yaml')], { encoding: 'utf8' });
    expect(clean.status).toBe(0);
    expect(existsSync(path.join(dir, 'logs'))).toBe(true);
  });
});

describe('hovers', () => {
  it('describe a task end in words with units', () => {
    const line = goodLines.find((l) => l.includes('SparkListenerTaskEnd'))!;
    const e = JSON.parse(line) as { 'Task Metrics': { 'Executor CPU Time': number } };
    const text = describeEvent(line)!;
    expect(text).toMatch(/^\*\*Task 0 of stage 0\*\* ended: Success/);
    const ms = Math.floor(e['Task Metrics']['Executor CPU Time'] / 1e6);
    expect(text).toContain(ms < 1000 ? `CPU ${ms} ms` : `CPU ${(ms / 1000).toFixed(1)} s`);
    expect(describeEvent('not json')).toBeUndefined();
  });

  it('show a timestamp outside the date range as written instead of throwing (issue #13 item 3)', () => {
    expect(describeEvent('{"Event":"SparkListenerApplicationEnd","Timestamp":1718000000000}')).toBe('**Application end** at 2024-06-10T06:13:20.000Z');
    expect(describeEvent('{"Event":"SparkListenerApplicationEnd","Timestamp":1e17}')).toBe('**Application end** at 100000000000000000 (not a valid time)');
    expect(describeEvent('{"Event":"SparkListenerApplicationStart","App Name":"a","App ID":"b","User":"u","Timestamp":-1.5}')).toContain('at -1.5 (not a valid time)');
  });

  it('describe a config key and its default only when the cursor is on the key', () => {
    expect(describeConfigKey('    batch_size: 50', 6)).toBe('**batch_size**: Records written to the database per batch.\n\nDefault: `100`');
    expect(describeConfigKey('  - name: nightly', 5)).toMatch(/^\*\*name\*\*: A unique name/);
    expect(describeConfigKey('    batch_size: 50', 17)).toBeUndefined();
    expect(describeConfigKey('      factor: 2', 7)).toMatch(/^\*\*factor\*\*: A metric is flagged when it exceeds its baseline by this factor .* Default 1\.5; the setting sparkOptimizer\.regression\.factor when left out\.$/);
  });
});

describeShared('hovers on a real Spark 3.5 log (issue 16)', () => {
  const file = sharedPath('real-logs', 'eventlog_v2_spark-110be3a8424d4a2789cb88134418217b', 'events_1_spark-110be3a8424d4a2789cb88134418217b');
  const first = (event: string): string => {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.includes(`"Event":"${event}"`));
    if (!line) throw new Error(`no ${event} in ${file}`);
    return line;
  };
  it.each([
    ['SparkListenerStageSubmitted', /^\*\*Stage \d+ submitted\*\*: .+ {2}\n\d+ tasks? · at \d{4}-/],
    ['SparkListenerStageCompleted', /^\*\*Stage \d+ completed\*\*: .+ {2}\n\d+ tasks? · submitted \d{4}-.* · done \d{4}-.*\(\d/],
    ['SparkListenerJobStart', /^\*\*Job \d+ started\*\* at \d{4}-\S+ with \d+ stages? \(\d/],
    ['SparkListenerJobEnd', /^\*\*Job \d+ ended\*\*: JobSucceeded at \d{4}-/],
    ['SparkListenerExecutorAdded', /^\*\*Executor \S+ added\*\* on \S+ with \d+ cores? at \d{4}-/],
    ['SparkListenerEnvironmentUpdate', /^\*\*Environment\*\*: \d+ Spark propert(y|ies)s? {2}\nmaster \S+/],
    ['SparkListenerTaskStart', /^\*\*Task \d+ of stage \d+\*\* started on executor \S+ \(\S+\) at \d{4}-/],
    ['org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart', /^\*\*SQL execution \d+ started\*\* at \d{4}-\S+: \S/],
    ['org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd', /^\*\*SQL execution \d+ ended\*\* at \d{4}-/],
  ])('%s is described in words', (event, text) => {
    expect(describeEvent(first(event))).toMatch(text);
  });
});

describe('hovers on events the real logs do not have', () => {
  it('an executor removed, with the reason', () => {
    expect(describeEvent('{"Event":"SparkListenerExecutorRemoved","Timestamp":1718000000000,"Executor ID":"7","Removed Reason":"Container killed by YARN for exceeding memory limits"}')).toBe(
      '**Executor 7 removed** at 2024-06-10T06:13:20.000Z: Container killed by YARN for exceeding memory limits',
    );
  });

  it('a failed stage and a failed SQL execution say why, on their first line', () => {
    expect(describeEvent('{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":3,"Stage Attempt ID":1,"Stage Name":"count at X.scala:1","Number of Tasks":1,"Submission Time":1718000000000,"Completion Time":1718000001500,"Failure Reason":"Job aborted\\nat line"}}')).toBe(
      '**Stage 3 (attempt 1) failed: Job aborted**: count at X.scala:1  \n1 task · submitted 2024-06-10T06:13:20.000Z · done 2024-06-10T06:13:21.500Z (1.5 s)',
    );
    expect(describeEvent('{"Event":"org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd","executionId":4,"time":1718000000000,"errorMessage":"boom\\nstack"}')).toBe('**SQL execution 4 ended** at 2024-06-10T06:13:20.000Z: failed: boom');
  });

  it('a Spark 1.x task end, which never measured CPU time, says so instead of 0', () => {
    const line = '{"Event":"SparkListenerTaskEnd","Stage ID":0,"Task End Reason":{"Reason":"Success"},"Task Info":{"Task ID":5,"Executor ID":"driver"},"Task Metrics":{"Executor Run Time":1200,"JVM GC Time":30}}';
    expect(describeEvent(line)).toContain('run 1.2 s · CPU not measured · GC 30 ms');
  });
});
