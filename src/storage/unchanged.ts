/**
 * The incremental rule, in one place for the CLI and the collection worker: an attempt is not read
 * again when the database read exactly its files, each with the same size and mtime, without
 * errors. Built once per run from `knownFiles()`, so each discovered attempt costs a map lookup,
 * not a query (10,000 small logs: 0.3 s of statements before).
 */
export interface KnownFile {
  unit_path: string;
  path: string;
  size: number;
  mtime_ms: number;
}

export function unchangedCheck(known: readonly KnownFile[]): (unit: { path: string; files: readonly { path: string; size: number; mtimeMs: number }[] }) => boolean {
  const byUnit = new Map<string, Map<string, KnownFile>>();
  for (const k of known) {
    let files = byUnit.get(k.unit_path);
    if (!files) byUnit.set(k.unit_path, (files = new Map<string, KnownFile>()));
    files.set(k.path, k);
  }
  return (unit) => {
    const files = byUnit.get(unit.path);
    return files !== undefined && files.size === unit.files.length && unit.files.every((f) => files.get(f.path)?.size === f.size && files.get(f.path)?.mtime_ms === f.mtimeMs);
  };
}
