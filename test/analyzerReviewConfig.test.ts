/**
 * A review of the config analyzer: secrets it missed (an Authorization header, a password in a URL),
 * header values that named environment variables and were sent as written, and a quick fix that
 * broke a block scalar.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { analyzeConfig, looksLikeConfig } from '../src/analysis/configAnalyzer';
import { main } from '../src/cli/main';
import type { Finding, FindingFix } from '../src/analysis/findings';
import { parseConfig } from '../src/collectors/config';
import { resolveHeaders } from '../src/collectors/configKeys';
import { historyServerSource, type HistoryServerSourceConfig } from '../src/collectors/historyServer/source';
import { tempDir } from './support/tmp';

/** `spark-optimizer ARGS…`: exit code, stdout and stderr lines. */
async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: '/' });
  return { code, out, err };
}

const ctx = { baseDir: '/tmp', exists: (): boolean => true };
const secrets = (text: string): Finding[] => analyzeConfig(text, ctx).filter((f) => f.code === 'inline-secret');

/** The text with a quick fix applied. */
function applyFix(text: string, fix: FindingFix): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }): number => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return text.slice(0, offset(fix.range.start)) + fix.newText + text.slice(offset(fix.range.end));
}

describe('inline secrets the analyzer missed', () => {
  const history = (extra: string): string => `collector:\n  type: history_server\n  history_server_url: http://history:18080\n${extra}`;

  it('an Authorization header: flagged, and the fix keeps its scheme', () => {
    const text = history('  headers:\n    Authorization: Bearer sk-live-SUPERSECRET123\n');
    const [found, ...more] = secrets(text);
    expect(more).toEqual([]);
    expect(found!.range).toEqual({ start: { line: 4, character: 19 }, end: { line: 4, character: 48 } });
    const fixed = applyFix(text, found!.fixes![0]!);
    expect(fixed).toContain('    Authorization: Bearer ${env:SPARK_OPTIMIZER_HISTORY_SERVER_AUTHORIZATION}\n');
    expect(secrets(fixed)).toEqual([]);
    expect(parseConfig(fixed, '/tmp').errors).toEqual([]);
  });

  it('a password in a URL: flagged on the password', () => {
    const text = 'collector:\n  type: history_server\n  history_server_url: https://user:hunter2pass@spark-history.example.com\n';
    const found = secrets(text);
    const col = text.split('\n')[2]!.indexOf('hunter2pass');
    expect(found.map((f) => f.range)).toEqual([{ start: { line: 2, character: col }, end: { line: 2, character: col + 'hunter2pass'.length } }]);
    expect(found[0]!.message).not.toContain('hunter2pass');
    // A user without a password is no secret.
    expect(secrets('collector:\n  type: history_server\n  history_server_url: https://user@spark-history.example.com\n')).toEqual([]);
  });

  it('a header naming an environment variable: not an inline secret, and sent with its value', () => {
    const text = history('  headers:\n    X-Api-Token: ${env:MY_TOK}\n    Authorization: Bearer ${env:MY_BEARER}\n    X-Team: data\n');
    expect(analyzeConfig(text, ctx)).toEqual([]);
    const parsed = parseConfig(text, '/tmp');
    expect(parsed.errors).toEqual([]);
    process.env.MY_TOK = 'tok-1';
    process.env.MY_BEARER = 'b-2';
    try {
      const [job] = historyServerSource.jobs(parsed.sources[0] as HistoryServerSourceConfig, undefined);
      expect(job!.headers).toEqual({ 'X-Api-Token': 'tok-1', Authorization: 'Bearer b-2', 'X-Team': 'data' });
    } finally {
      delete process.env.MY_TOK;
      delete process.env.MY_BEARER;
    }
    expect(() => resolveHeaders({ 'X-Api-Token': '${env:MY_TOK}' })).toThrow('header X-Api-Token refers to environment variable MY_TOK, which is not set');
  });

  it('a header with a reference that is not one is refused, by collect and the analyzer alike', () => {
    const text = history('  headers:\n    X-Api-Token: ${env:MY-TOK}\n');
    expect(parseConfig(text, '/tmp').errors.map((e) => [e.line, e.path.join('.')])).toEqual([[5, 'collector.headers.X-Api-Token']]);
    expect(analyzeConfig(text, ctx).map((f) => [f.code, f.range.start.line])).toEqual([['invalid-value', 4]]);
  });
});

describe('the inline-secret fix keeps the YAML valid', () => {
  it.each([
    ['a literal block', 'token: |\n    sk-secret\n'],
    ['a folded block with a chomping indicator', 'token: >-\n    sk-secret\n\n'],
    ['a plain value', 'token: sk-secret\n'],
    ['a quoted value', 'token: "sk-secret"\n'],
  ])('%s', (_what, token) => {
    const text = `collector:\n  type: history_server\n  history_server_url: http://history:18080\n  ${token}  user: bob\n`;
    const [found] = secrets(text);
    const fixed = applyFix(text, found!.fixes![0]!);
    const doc = parseDocument(fixed);
    expect(doc.errors).toEqual([]);
    expect(doc.toJS()).toEqual({ collector: { type: 'history_server', history_server_url: 'http://history:18080', token: '${env:SPARK_OPTIMIZER_HISTORY_SERVER_TOKEN}', user: 'bob' } });
  });
});

describe('a config that starts with a byte-order mark', () => {
  const text = 'collector:\n  type: event_log\n  pathh: /tmp\n';
  const bom = `\uFEFF${text}`;

  it('is a config, with the columns the editor shows (it hides the mark)', () => {
    expect(looksLikeConfig(bom)).toBe(true);
    expect(analyzeConfig(bom, ctx)).toEqual(analyzeConfig(text, ctx));
    expect(analyzeConfig('\uFEFFcolector:\n  type: event_log\n  path: /tmp\n', ctx).find((f) => f.code === 'unknown-key')!.range.start).toEqual({ line: 0, character: 0 });
  });

  it('validate checks it as a config, named or found in a folder', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'team.yaml');
    writeFileSync(file, bom);
    for (const target of [file, dir]) {
      const { code, out } = await cli('validate', target, '--format', 'json');
      expect(code).toBe(1);
      expect(out.map((l) => JSON.parse(l) as { line: number; column: number; code: string }).map((f) => [f.line, f.column, f.code])).toEqual([
        [2, 9, 'missing-key'],
        [3, 3, 'unknown-key'],
      ]);
    }
  });
});

describe('validate and collect agree on a path that does not exist', () => {
  it('both exit 1', async () => {
    const dir = tempDir();
    const config = path.join(dir, 'spark-optimizer.yaml');
    writeFileSync(config, 'sources:\n  - name: a\n    type: event_log\n    path: ./nope\n');
    const validated = await cli('validate', config, '--format', 'json');
    const collected = await cli('collect', '--config', config, '--dry-run', '--db', path.join(dir, 'jobs.db'));
    expect([validated.code, collected.code]).toEqual([1, 1]);
    expect(validated.out.map((l) => JSON.parse(l) as { line: number; column: number; severity: string; code: string }).map((f) => [f.line, f.column, f.severity, f.code])).toEqual([[4, 11, 'error', 'path-not-found']]);
  });
});

describe('validate and collect read a config the same way (one parse, one schema)', () => {
  const logs = tempDir();
  const cases: [string, string][] = [
    ['an empty sources list', 'sources: []\n'],
    ['a defaulted name clashing with a written one', `sources:\n  - type: event_log\n    path: ${logs}\n  - name: event_log-1\n    type: event_log\n    path: ${logs}\n`],
    ['a name given by an alias', `sources:\n  - name: &n a\n    type: event_log\n    path: ${logs}\n  - name: *n\n    type: event_log\n    path: ${logs}\n`],
    ['a type given by an alias', `sources:\n  - name: a\n    type: &t event_log\n    path: ${logs}\n  - name: b\n    type: *t\n    path: ${logs}\n`],
    ['a source given by an alias', `sources:\n  - &s\n    type: event_log\n    path: ${logs}\n  - *s\n`],
    ['a named source given by an alias', `sources:\n  - &s\n    name: x\n    type: event_log\n    path: ${logs}\n  - *s\n`],
    ['sources not a list', 'sources: nope\n'],
    ['a duplicate after a source collect drops', `sources:\n  - name: a\n    type: event_lg\n  - name: a\n    type: event_log\n    path: ${logs}\n  - name: a\n    type: event_log\n    path: ${logs}\n`],
    ['a good config', `sources:\n  - name: a\n    type: event_log\n    path: ${logs}\n  - type: event_log\n    path: ${logs}\n`],
  ];

  it.each(cases)('%s: the same errors on the same lines', async (_what, text) => {
    const dir = tempDir();
    const file = path.join(dir, 'spark-optimizer.yaml');
    writeFileSync(file, text);
    const parsed = parseConfig(text, dir);
    const analyzed = analyzeConfig(text, { baseDir: dir, exists: () => true }).filter((f) => f.severity === 'error');
    expect(analyzed.map((f) => f.range.start.line + 1)).toEqual(parsed.errors.map((e) => e.line));
    // And the commands: validate exits 1 exactly when collect refuses the config or a source in it.
    const validated = await cli('validate', file);
    const collected = await cli('collect', '--config', file, '--dry-run', '--db', path.join(dir, 'jobs.db'));
    expect(validated.code).toBe(parsed.errors.length > 0 ? 1 : 0);
    expect(collected.code).toBe(validated.code);
  });
});

describe('an unclosed quote', () => {
  it.each([
    ['on the last line', 'collector:\n  type: event_log\n  path: /tmp\n  token: "sk-abcdef\n', 3, 9],
    ['lines above the end', "collector:\n  type: 'event_log\n  path: /tmp\n", 1, 8],
  ])('%s: shown on its opening quote, by validate and collect', (_what, text, line, character) => {
    const found = analyzeConfig(text, ctx);
    expect(found.map((f) => [f.code, f.range.start.line, f.range.start.character])).toEqual([['yaml-syntax', line, character]]);
    expect(found[0]!.message).toMatch(/no closing quote/);
    expect(parseConfig(text, '/tmp').errors.map((e) => e.line)).toEqual([line + 1]);
  });
});

describe('a clash with a defaulted name says where the name comes from', () => {
  it('names the source that took it for having no name:', () => {
    const text = 'sources:\n  - type: event_log\n    path: /tmp\n  - name: event_log-1\n    type: event_log\n    path: /tmp\n';
    const [clash] = analyzeConfig(text, ctx).filter((f) => f.code === 'duplicate-name');
    expect(clash!.range.start.line).toBe(3);
    expect(clash!.message).toBe('Duplicate source name "event_log-1" (also source 1, which has no `name:` and so takes this one): names pick sources for `collect --name` and must be unique.');
  });
});
