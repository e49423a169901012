/**
 * Tests of the cloud collectors run with the platform's variables unset and HOME a fresh folder, so
 * that no real credentials, profiles or metadata servers of the machine reach them; each variable is
 * restored and the folder removed after each test. Registers its own beforeEach/afterEach.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export const DATABRICKS_ENV = ['DATABRICKS_HOST', 'DATABRICKS_TOKEN', 'DATABRICKS_CONFIG_FILE', 'DATABRICKS_CONFIG_PROFILE', 'DATABRICKS_CLIENT_ID', 'DATABRICKS_CLIENT_SECRET', 'HOME'] as const;
export const DATAPROC_ENV = ['GOOGLE_OAUTH_ACCESS_TOKEN', 'CLOUDSDK_AUTH_ACCESS_TOKEN', 'GOOGLE_APPLICATION_CREDENTIALS', 'GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT', 'CLOUDSDK_CORE_PROJECT', 'CLOUDSDK_CONFIG', 'HOME', 'METADATA_SERVER_DETECTION', 'GCE_METADATA_HOST', 'CLOUDSDK_DATAPROC_REGION'] as const;

export const AWS_ENV = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_EC2_METADATA_DISABLED', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'HOME'] as const;

/** EMR's: never the instance-metadata service, and ~/.aws files that do not exist under the fresh HOME. */
export function noAws(home: string): void {
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_CONFIG_FILE = path.join(home, '.aws', 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(home, '.aws', 'credentials');
}

/** Dataproc's: gcloud's config under the fresh HOME, and no metadata server looked for. */
export function noGcloud(home: string): void {
  process.env.CLOUDSDK_CONFIG = path.join(home, 'gcloud');
  process.env.METADATA_SERVER_DETECTION = 'none';
}

/** `keys` unset and HOME a fresh folder (named from `prefix`) in each test; `env.home` is that folder. */
export function isolatedEnv(keys: readonly string[], prefix: string, setup?: (home: string) => void): { readonly home: string } {
  const env = { home: '' };
  let saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
    for (const k of keys) delete process.env[k];
    env.home = mkdtempSync(path.join(tmpdir(), prefix));
    process.env.HOME = env.home;
    setup?.(env.home);
  });
  afterEach(() => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(env.home, { recursive: true, force: true });
  });
  return env;
}

/** Variables that could carry real credentials or point at real services: never inherited by a child process. */
const SCRUB = /^(AWS_|DATABRICKS_|GOOGLE_|GCLOUD_|GCE_|CLOUDSDK_|METADATA_SERVER|SPARK_OPTIMIZER_|HOME$|USERPROFILE$)/;

/**
 * The environment of a CLI child process kept from the machine's credentials and metadata servers:
 * this process's variables but SCRUB's, HOME the folder `home` (no ~/.aws, no gcloud config there),
 * then `extra`.
 */
export function childEnv(home: string, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUB.test(k)) env[k] = v;
  return {
    ...env,
    HOME: home,
    USERPROFILE: home,
    TMPDIR: tmpdir(),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(home, 'no-aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-aws', 'credentials'),
    CLOUDSDK_CONFIG: path.join(home, 'no-gcloud'),
    METADATA_SERVER_DETECTION: 'none',
    ...extra,
  };
}
