/**
 * The webviews run in a browser: their bundles (dist/webview, built by `npm test`'s build) must not
 * carry code that needs Node. A value imported from a module that reaches Node's Buffer or zod (the
 * record's schema, collectors/record.ts) once stopped the job page at "Loading" (55060ae).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = path.resolve(__dirname, '..', 'dist', 'webview');

describe('webview bundles', () => {
  it('use no Node global or module (Buffer, process, require)', () => {
    const bundles = readdirSync(DIR).filter((f) => f.endsWith('.js'));
    expect(bundles.sort()).toEqual(['compare.js', 'jobPage.js', 'jobsTable.js', 'trend.js']);
    for (const f of bundles) expect(readFileSync(path.join(DIR, f), 'utf8'), f).not.toMatch(/\bBuffer\b|\bprocess\.|\brequire\(/);
  });
});
