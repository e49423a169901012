/**
 * What a collection run read, as `runs` prints it (issue 16): its path, its URL or where its API
 * is, from the options its run record keeps. Those are stored without credentials
 * (registry.ts recordedOptions); a URL is shown without user info, fragment or secret-looking query
 * values all the same, since older runs, or other writers, may have kept them.
 */
import { safeUrl } from '../common/safeUrl';
import type { RunRow } from '../storage/repository';

/** A run's options with every URL-valued string passed through safeUrl (for `runs --format json`). */
export function withoutSecrets(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, typeof v === 'string' ? safeUrl(v) : v]));
}

/** Where the options say a run read, in the order the source types name it; else its source's name. */
const LOCATION_KEYS = ['path', 'url', 'host', 'endpointUrl', 'historyServerUrl', 'eventLogDir'] as const;
const SCOPE_KEYS = [
  ['projectId', 'project'],
  ['region', 'region'],
  ['profile', 'profile'],
] as const;

export function whatRunRead(run: Pick<RunRow, 'options' | 'source'>): string {
  for (const key of LOCATION_KEYS) {
    const v = run.options[key];
    if (typeof v === 'string' && v !== '') return safeUrl(v);
    if (Array.isArray(v) && v.length > 0) return v.map((p) => safeUrl(String(p))).join(', ');
  }
  const scope = SCOPE_KEYS.flatMap(([key, word]) => (typeof run.options[key] === 'string' ? [`${word} ${String(run.options[key])}`] : []));
  return scope.length > 0 ? scope.join(', ') : run.source;
}
