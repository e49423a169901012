/**
 * Loads sql.js (SQLite compiled to WebAssembly) once per process, with its `.wasm` located
 * explicitly: next to the bundle (`dist/sql-wasm.wasm`, copied there by scripts/build.mjs, which is
 * how the packaged extension and the CLI find it) or, when running from source (tests), in the
 * sql.js package.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

let loading: Promise<SqlJsStatic> | undefined;

const PACKAGE = 'sql.js'; // a variable, so bundlers leave the lookup to run time

export function wasmPath(): string {
  const bundled = path.join(__dirname, 'sql-wasm.wasm');
  if (existsSync(bundled)) return bundled;
  return path.join(path.dirname(require.resolve(PACKAGE)), 'sql-wasm.wasm');
}

export function loadSqlJs(): Promise<SqlJsStatic> {
  loading ??= initSqlJs({ locateFile: () => wasmPath() });
  return loading;
}
