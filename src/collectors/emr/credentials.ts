/**
 * AWS credentials the way the AWS CLI finds them (the SDK's default chain: environment, shared
 * config/credentials files with `profile` incl. SSO, container and instance metadata), plus how to
 * say, without the secret, which of those a failure came from.
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { maskSecrets } from '../maskSecrets';

/** The SDK's credential shape (kept here: @aws-sdk/types is not a direct dependency). */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** Explicit credentials (CI, tests); resolved strings so the options stay plain data for the worker. */
export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface CredentialSource {
  provider: AwsCredentialIdentityProvider;
  /** Which source is tried, for messages: never the key itself. */
  describe: string;
}

function sharedFiles(): string {
  const config = process.env.AWS_CONFIG_FILE ?? '~/.aws/config';
  const credentials = process.env.AWS_SHARED_CREDENTIALS_FILE ?? '~/.aws/credentials';
  return `${config} / ${credentials}`;
}

/**
 * The credential provider and its description. The SDK's chain skips the environment's keys as soon
 * as a profile is named (option or AWS_PROFILE), so the description follows the same order.
 */
export function credentialSource(opts: { profile?: string; credentials?: StaticCredentials; region?: string }): CredentialSource {
  if (opts.credentials !== undefined) {
    const c = opts.credentials;
    return { provider: () => Promise.resolve({ ...c }), describe: 'the access key given in the collector options' };
  }
  const provider = fromNodeProviderChain({ ...(opts.profile !== undefined ? { profile: opts.profile } : {}), ...(opts.region !== undefined ? { clientConfig: { region: opts.region } } : {}) });
  if (opts.profile !== undefined) return { provider, describe: `profile '${opts.profile}' from ${sharedFiles()}` };
  const envProfile = process.env.AWS_PROFILE;
  if (envProfile !== undefined && envProfile !== '') return { provider, describe: `profile '${envProfile}' (AWS_PROFILE) from ${sharedFiles()}` };
  if (process.env.AWS_ACCESS_KEY_ID !== undefined && process.env.AWS_ACCESS_KEY_ID !== '') {
    return { provider, describe: `environment variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY${process.env.AWS_SESSION_TOKEN ? ' / AWS_SESSION_TOKEN' : ''}` };
  }
  return { provider, describe: `the default AWS credential chain (environment, ${sharedFiles()}, SSO, instance metadata)` };
}

// Error names the AWS services use when the caller's identity is wrong, expired or not allowed;
// `CredentialsProviderError` is the SDK's own "found none" (the chain's last provider failed).
const AUTH_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'AccessDenied',
  'AccessDeniedException',
  'InvalidAccessKeyId',
  'InvalidToken',
  'TokenRefreshRequired',
]);

// Of those, the ones about the identity itself rather than one permission: a missing IAM permission
// for an extra (CloudWatch) is not a reason to stop the whole run, a dead token is.
const PERMISSION_ERRORS = new Set(['AccessDenied', 'AccessDeniedException']);

export function isCredentialError(err: unknown): boolean {
  return isAuthError(err) && !PERMISSION_ERRORS.has((err as Error).name);
}

export function isAuthError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return AUTH_ERRORS.has(err.name) || status === 401;
}

/**
 * Removes every known secret from a text that goes into a problem: the service's error message is
 * shown as it came, and a service could echo what it was sent.
 */
export function scrubber(creds: AwsCredentialIdentity | undefined): (text: string) => string {
  const secrets = [creds?.secretAccessKey, creds?.sessionToken];
  return (text) => maskSecrets(text, secrets);
}
