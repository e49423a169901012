/**
 * Google Cloud credentials for the Dataproc collector, in the order Google's own tools use them:
 * an explicit OAuth access token (the source's `access_token`, GOOGLE_OAUTH_ACCESS_TOKEN, or
 * CLOUDSDK_AUTH_ACCESS_TOKEN which gcloud reads), else Application Default Credentials through
 * google-auth-library (GOOGLE_APPLICATION_CREDENTIALS, gcloud's application_default_credentials.json,
 * the metadata server). Each result carries a description of where the credential came from, so an
 * auth failure can say what was tried; the description never contains the secret itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GoogleAuth } from 'google-auth-library';
import type { HttpAuth } from '../http/jsonClient';
import { maskSecrets } from '../maskSecrets';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
// gtoken posts service-account exchanges here whatever the key's token_uri says (google-auth-library 10.x).
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export const NO_CREDENTIALS_HINT =
  'set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run `gcloud auth application-default login`, or set GOOGLE_OAUTH_ACCESS_TOKEN';

/** No usable credential, or the credential source refused to give a token. Stops the run. */
export class CredentialError extends Error {
  constructor(
    message: string,
    /** Which credential source was tried (never the secret). */
    readonly tried: string,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

export interface GcpCredentials {
  auth: HttpAuth;
  /** e.g. "access token from GOOGLE_OAUTH_ACCESS_TOKEN", "service account key /k.json (GOOGLE_APPLICATION_CREDENTIALS)". */
  description: string;
  /**
   * The project: GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT, CLOUDSDK_CORE_PROJECT, else the one the
   * credentials name (key file `project_id`, ADC project), when known.
   */
  projectId: string | null;
}

/**
 * What a credential looks like when a library or a server quotes one: Google OAuth access tokens
 * (`ya29.…`), refresh tokens (`1//…`), OAuth client secrets (`GOCSPX-…`), JWTs (a signed assertion or ID token: three base64url
 * segments, the first `eyJ`) and PEM private keys. Only these shapes: a long run of letters alone is
 * what our own cluster names, job ids and UUIDs look like (a review: every problem naming a long
 * cluster or job id had it masked).
 */
const SECRET_SHAPES = [/\bya29\.[A-Za-z0-9_.-]+/g, /\b1\/\/[A-Za-z0-9_-]{20,}/g, /\bGOCSPX-[A-Za-z0-9_-]+/g, /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g];

/** Known secrets (the credential values in use), and anything shaped like a Google credential, cut from a message. */
export function scrubSecrets(text: string, ...secrets: (string | undefined)[]): string {
  let out = maskSecrets(text, secrets);
  for (const shape of SECRET_SHAPES) out = out.replace(shape, '***');
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, tried: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CredentialError(`${what} took longer than ${ms} ms`, tried)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** gcloud's ADC file, where google-auth-library looks for it. */
function wellKnownFile(): string | null {
  const dir = process.env.CLOUDSDK_CONFIG || (process.platform === 'win32' ? (process.env.APPDATA ? path.join(process.env.APPDATA, 'gcloud') : null) : path.join(process.env.HOME || os.homedir(), '.config', 'gcloud'));
  return dir === null ? null : path.join(dir, 'application_default_credentials.json');
}

interface KeyFile {
  type?: string;
  project_id?: string;
  quota_project_id?: string;
  token_uri?: string;
}

function readKeyFile(file: string, tried: string): KeyFile {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof json === 'object' && json !== null ? json : {};
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? 'not JSON';
    throw new CredentialError(`cannot read ${tried}: ${why}`, tried);
  }
}

function describeFile(kind: KeyFile['type'], file: string, origin: string): string {
  const what = kind === 'service_account' ? 'service account key' : kind === 'authorized_user' ? 'user credentials' : kind === 'external_account' ? 'workload identity federation config' : 'credential file';
  return `${what} ${file} (${origin})`;
}

export interface ResolveOptions {
  /** The source's own `access_token` (already resolved from `${env:VAR}`). */
  accessToken?: string;
  /** Where `accessToken` came from, named in messages instead of the access_token setting (e.g. the editor's secret storage). */
  accessTokenSource?: string;
  /** Bound on finding ADC and getting the first token, metadata-server probe included (default 15 s). */
  timeoutMs?: number;
}

/**
 * Finds credentials and gets a first token, so a bad credential is reported before any listing.
 * Throws CredentialError (message names the source tried, never a secret).
 */
export async function resolveGcpCredentials(options: ResolveOptions = {}): Promise<GcpCredentials> {
  // gcloud's own override (CLOUDSDK_CORE_PROJECT, its core/project property) after the client libraries' variables.
  const envProject = process.env.GOOGLE_CLOUD_PROJECT || process.env.GCLOUD_PROJECT || process.env.CLOUDSDK_CORE_PROJECT || null;
  const explicit: [string | undefined, string][] = [
    [options.accessToken, options.accessTokenSource ?? "access token from the source's access_token setting"],
    [process.env.GOOGLE_OAUTH_ACCESS_TOKEN, 'access token from GOOGLE_OAUTH_ACCESS_TOKEN'],
    [process.env.CLOUDSDK_AUTH_ACCESS_TOKEN, 'access token from CLOUDSDK_AUTH_ACCESS_TOKEN'],
  ];
  for (const [token, description] of explicit) {
    if (token !== undefined && token.trim() !== '') return { auth: { type: 'bearer', token: token.trim() }, description, projectId: envProject };
  }

  const timeoutMs = options.timeoutMs ?? 15_000;
  let description: string;
  let key: KeyFile = {};
  const envFile = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  const known = wellKnownFile();
  if (envFile) {
    const tried = `credential file ${envFile} (GOOGLE_APPLICATION_CREDENTIALS)`;
    key = readKeyFile(envFile, tried);
    description = describeFile(key.type, envFile, 'GOOGLE_APPLICATION_CREDENTIALS');
  } else if (known !== null && existsSync(known)) {
    key = readKeyFile(known, `gcloud application-default credentials ${known}`);
    description = describeFile(key.type, known, 'gcloud application-default login');
  } else {
    description = 'the GCE metadata server';
  }

  const auth = new GoogleAuth({ scopes: [SCOPE] });
  if (description === 'the GCE metadata server') {
    // google-auth-library probes the metadata server (169.254.169.254, or GCE_METADATA_HOST) and a
    // BIOS file; off Google Cloud that answer is "no", bounded here so a missing credential never hangs.
    const onGce = await withTimeout(auth._checkIsGCE(), timeoutMs, 'probing the metadata server', description).catch(() => false);
    if (!onGce) {
      throw new CredentialError(
        `no Google Cloud credentials found (tried GOOGLE_OAUTH_ACCESS_TOKEN, CLOUDSDK_AUTH_ACCESS_TOKEN, GOOGLE_APPLICATION_CREDENTIALS, ${known ?? 'gcloud application-default credentials'} and the GCE metadata server): ${NO_CREDENTIALS_HINT}`,
        'Application Default Credentials (none found)',
      );
    }
  }

  const fail = (what: string, err: unknown): CredentialError => {
    if (err instanceof CredentialError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    return new CredentialError(`${what} from ${description} failed: ${scrubSecrets(msg).slice(0, 300)}`, description);
  };

  let client: Awaited<ReturnType<GoogleAuth['getClient']>>;
  try {
    client = await withTimeout(auth.getClient(), timeoutMs, `loading ${description}`, description);
  } catch (err) {
    throw fail('loading credentials', err);
  }
  // A service-account key names its token endpoint (token_uri: private Google endpoints, emulators);
  // google-auth-library posts to the public one regardless, so the request is pointed where the key says.
  const tokenUri = key.type === 'service_account' ? key.token_uri : undefined;
  if (tokenUri !== undefined && tokenUri !== GOOGLE_TOKEN_URL && /^https?:\/\//.test(tokenUri)) {
    client.transporter.interceptors.request.add({
      resolved: (config) => {
        if (String(config.url) === GOOGLE_TOKEN_URL) config.url = new URL(tokenUri);
        return Promise.resolve(config);
      },
    });
  }

  const token = async (): Promise<string> => {
    try {
      const r = await withTimeout(client.getAccessToken(), timeoutMs, `getting an access token from ${description}`, description);
      if (typeof r.token !== 'string' || r.token === '') throw new CredentialError(`${description} gave no access token`, description);
      return r.token;
    } catch (err) {
      throw fail('getting an access token', err);
    }
  };
  await token();

  let projectId = envProject ?? key.project_id ?? key.quota_project_id ?? null;
  if (projectId === null && description === 'the GCE metadata server') {
    projectId = await withTimeout(auth.getProjectId(), timeoutMs, 'asking the metadata server for the project', description).catch(() => null);
  }
  return { auth: { type: 'bearerProvider', token }, description, projectId };
}
