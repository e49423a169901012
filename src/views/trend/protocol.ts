/**
 * Messages between the extension host and the Trend webview (issue 15), the one protocol file.
 * Both sides check what they receive with the guards below: the page checks the host's, the host
 * the page's. Pure: the webview bundle imports it too. The page's saved state (getState/setState,
 * handed to the WebviewPanelSerializer after a reload) is checked here as well.
 */
import { isJobKey, type JobKey } from '../jobPage/protocol';
import type { Tone } from '../jobPage/model';
import { TREND_METRICS, type TrendMetric, type TrendModel } from './model';
import { isNumberOrNull, isObject } from '../../common/guards';

export type HostMessage =
  /** Host -> page, after the page says it is ready (and again when the database changes): what to show. `limit` is set when only the newest `limit` runs were read. */
  | { type: 'model'; model: TrendModel; limit: number | null }
  /** Host -> page, instead of a model: no run of the name is (or is any longer) in the database. */
  | { type: 'missing'; appName: string; message: string };

export type PageMessage =
  /** Page -> host, once its script runs (also after a reload): send the model. */
  | { type: 'ready' }
  /** Page -> host, a chart point or a table row: open that run's Job page. */
  | { type: 'openRun'; key: JobKey };

/** What the page keeps across reloads (vscode.setState), and the serializer gets back. */
export interface PageState {
  appName: string;
  metric: TrendMetric;
}


export function isTrendMetric(v: unknown): v is TrendMetric {
  return TREND_METRICS.some((m) => m.key === v);
}

const TONES: readonly Tone[] = ['ok', 'warn', 'error', 'neutral'];
const isTone = (v: unknown): boolean => (TONES as readonly unknown[]).includes(v);

function isPoint(v: unknown): boolean {
  return (
    isObject(v) &&
    isJobKey(v) &&
    typeof v.at === 'number' &&
    Number.isFinite(v.at) &&
    typeof v.status === 'string' &&
    isTone(v.tone) &&
    isTone(v.failedTasksTone) &&
    isObject(v.values) &&
    TREND_METRICS.every((m) => isNumberOrNull((v.values as Record<string, unknown>)[m.key]))
  );
}

function isModel(v: unknown): v is TrendModel {
  if (!isObject(v) || typeof v.appName !== 'string' || !Array.isArray(v.points) || !isObject(v.summary) || typeof v.untimed !== 'number') return false;
  const summary = v.summary;
  return (
    v.points.every(isPoint) &&
    TREND_METRICS.every((m) => {
      const s = summary[m.key];
      return isObject(s) && isNumberOrNull(s.median) && typeof s.earlier === 'number' && isNumberOrNull(s.newestRatio) && isTone(s.tone);
    })
  );
}

export function isHostMessage(m: unknown): m is HostMessage {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'model':
      return isModel(m.model) && (m.limit === null || (typeof m.limit === 'number' && m.limit > 0));
    case 'missing':
      return typeof m.appName === 'string' && typeof m.message === 'string';
    default:
      return false;
  }
}

export function isPageMessage(m: unknown): m is PageMessage {
  if (!isObject(m)) return false;
  return m.type === 'ready' || (m.type === 'openRun' && isJobKey(m.key));
}

export function isPageState(v: unknown): v is PageState {
  return isObject(v) && typeof v.appName === 'string' && v.appName.length > 0 && isTrendMetric(v.metric);
}
