/**
 * Messages between the extension host and the Job page webview, the one protocol file (issue 15).
 * Both sides check what they receive with the guards below: the page checks the host's, the host
 * the page's. Pure: the webview bundle imports it too. The page's saved state (getState/setState,
 * handed to the WebviewPanelSerializer after a reload) is checked here as well.
 */
import { STAGE_SORTS, type JobPageModel, type StageSort } from './model';
import { isObject } from '../../common/guards';

export interface JobKey {
  app_id: string;
  attempt_id: string | null;
}

/** Where the event log of the job is, as far as the host knows. */
export interface EventLogInfo {
  /** A file or folder that Open Event Log opens; null when the source has none (an API source). */
  path: string | null;
  /** What the page says about it ("the source's folder", "found by the application id"). */
  note: string;
  /** false when `path` is not the job's log but where the search stopped (the source's folder). */
  found?: boolean;
}

export type HostMessage =
  /** Host -> page, after the page says it is ready (and again when the job changes in the database): what to show. */
  | { type: 'model'; model: JobPageModel; eventLog: EventLogInfo }
  /** Host -> page, instead of a model: the job is not (or no longer) in the database. */
  | { type: 'missing'; key: JobKey; message: string };

export type PageMessage =
  /** Page -> host, once its script runs (also after a reload): send the model. */
  | { type: 'ready' }
  /** Page -> host, the "Open Record as JSON" button. */
  | { type: 'openJson' }
  /** Page -> host, an "Open Event Log" button: the header's, or a quality flag's (`flag`: go to the line it comes from). */
  | { type: 'openEventLog'; flag?: string }
  /** Page -> host, the regression section's buttons: this run against its previous one, its name's trend. */
  | { type: 'compareWithPrevious' }
  | { type: 'showTrend' };

/** What the page keeps across reloads (vscode.setState), and the serializer gets back. */
export interface PageState {
  key: JobKey;
  sort: StageSort;
  descending: boolean;
  configQuery: string;
}


/** A job key as one text (a map key), the same for every view. */
export const jobKeyText = (k: JobKey): string => `${k.app_id}\u0000${k.attempt_id ?? ''}`;

export function isJobKey(v: unknown): v is JobKey {
  return isObject(v) && typeof v.app_id === 'string' && v.app_id.length > 0 && (v.attempt_id === null || typeof v.attempt_id === 'string');
}

function isModel(v: unknown): v is JobPageModel {
  if (!isObject(v) || !isJobKey(v.key) || typeof v.title !== 'string' || typeof v.hasSummaries !== 'boolean') return false;
  const tl = v.timeline;
  return (
    ['facts', 'cards', 'stages', 'executors', 'config', 'flags'].every((k) => Array.isArray(v[k])) &&
    (v.regression === null || (isObject(v.regression) && typeof v.regression.headline === 'string' && Array.isArray(v.regression.metrics) && Array.isArray(v.regression.config))) &&
    isObject(tl) &&
    Array.isArray(tl.gantt) &&
    isObject(tl.executors) &&
    Array.isArray(tl.executors.t) &&
    Array.isArray(tl.executors.count)
  );
}

function isEventLogInfo(v: unknown): v is EventLogInfo {
  return isObject(v) && (v.path === null || typeof v.path === 'string') && typeof v.note === 'string' && (v.found === undefined || typeof v.found === 'boolean');
}

export function isHostMessage(m: unknown): m is HostMessage {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'model':
      return isModel(m.model) && isEventLogInfo(m.eventLog);
    case 'missing':
      return isJobKey(m.key) && typeof m.message === 'string';
    default:
      return false;
  }
}

export function isPageMessage(m: unknown): m is PageMessage {
  return isObject(m) && (['ready', 'openJson', 'compareWithPrevious', 'showTrend'].includes(m.type as string) || (m.type === 'openEventLog' && (m.flag === undefined || typeof m.flag === 'string')));
}

export function isPageState(v: unknown): v is PageState {
  return isObject(v) && isJobKey(v.key) && (STAGE_SORTS as readonly unknown[]).includes(v.sort) && typeof v.descending === 'boolean' && typeof v.configQuery === 'string';
}
