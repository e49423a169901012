/**
 * Databricks config profiles, read the way the Databricks CLI and SDKs read them: `~/.databrickscfg`
 * (or DATABRICKS_CONFIG_FILE), an INI file whose sections are profiles; the profile is
 * DATABRICKS_CONFIG_PROFILE, else `DEFAULT`. Keys read: `host`, `token`, `client_id`, `client_secret`.
 * Apart from credentials.ts because planning a source reads a profile, and that must not load the
 * HTTP client (issue #12: start-up).
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A tiny INI reader: `[section]` headers, `key = value` (or `key: value`) lines, whole-line comments
 * starting with `#` or `;`. Keys are lower-cased (as Python's configparser does); values are trimmed.
 * Lines before the first section and lines of any other form are skipped (never echoed: they may
 * hold a secret).
 */
export function parseIni(text: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      current = sections.get(name) ?? {};
      sections.set(name, current);
      continue;
    }
    const eq = line.search(/[=:]/);
    if (current === undefined || eq <= 0) continue;
    current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return sections;
}

/** Where the config file is: DATABRICKS_CONFIG_FILE (a leading `~` is the home folder), else ~/.databrickscfg. */
export function databricksConfigFile(): string {
  const home = process.env.HOME || os.homedir();
  const env = process.env.DATABRICKS_CONFIG_FILE;
  if (env !== undefined && env.trim() !== '') return env.startsWith('~') ? path.join(home, env.slice(1)) : env;
  return path.join(home, '.databrickscfg');
}

export interface DatabricksProfile {
  /** The profile's name (section), e.g. `DEFAULT`. */
  name: string;
  /** The config file it was read from. */
  file: string;
  /** True when DATABRICKS_CONFIG_PROFILE named it (a missing one is then worth telling). */
  explicit: boolean;
  /** The profile's keys, lower-case; undefined when the file or the profile is not there. */
  values: Record<string, string> | undefined;
  /** Why it could not be read, when it was asked for explicitly (never the file's content). */
  error?: string;
}

/** The profile DATABRICKS_CONFIG_PROFILE (or DEFAULT) of the config file; a missing file is no profile. */
export function readDatabricksProfile(): DatabricksProfile {
  const file = databricksConfigFile();
  const asked = process.env.DATABRICKS_CONFIG_PROFILE;
  const explicit = asked !== undefined && asked.trim() !== '';
  const name = explicit ? asked.trim() : 'DEFAULT';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return { name, file, explicit, values: undefined, error: `profile ${name} (DATABRICKS_CONFIG_PROFILE): config file ${file} cannot be read (${code})` };
  }
  const values = parseIni(text).get(name);
  return { name, file, explicit, values, error: values === undefined ? `profile ${name} (DATABRICKS_CONFIG_PROFILE) is not in ${file}` : undefined };
}

/** A profile key, when present and not blank. */
export function profileValue(p: DatabricksProfile, key: string): string | undefined {
  const v = p.values?.[key];
  return v === undefined || v === '' ? undefined : v;
}
