/**
 * Messages between the extension host and the Compare webview (issue 15), the one protocol file.
 * Both sides check what they receive with the guards below: the page checks the host's, the host
 * the page's. Pure: the webview bundle imports it too. The page's saved state (getState/setState,
 * handed to the WebviewPanelSerializer after a reload) is checked here as well.
 */
import { isJobKey, type JobKey } from '../jobPage/protocol';
import { STAGE_COLUMNS, STAGE_SORTS, type CompareModel, type StageSort } from './model';
import { isObject, isString, isStringOrNull } from '../../common/guards';

export type HostMessage =
  /** Host -> page, after the page says it is ready (and again when the database changes): what to show. */
  | { type: 'model'; model: CompareModel }
  /** Host -> page, instead of a model: a run is not (or no longer) in the database. */
  | { type: 'missing'; message: string };

export type PageMessage =
  /** Page -> host, once its script runs (also after a reload): send the model. */
  | { type: 'ready' }
  /** Page -> host, a run's "Open Job Page" button: open run A's or B's Job page. */
  | { type: 'openRun'; side: 'a' | 'b' }
  /** Page -> host, the "Swap A and B" button: compare the other way round (B becomes the baseline). */
  | { type: 'swap' };

/** What the page keeps across reloads (vscode.setState), and the serializer gets back. */
export interface PageState {
  a: JobKey;
  b: JobKey;
  sort: StageSort;
  descending: boolean;
  stageQuery: string;
  configQuery: string;
  /** Whether the config diff lists the properties Spark sets anew for every run. */
  showPerRun: boolean;
}

const TONES: readonly unknown[] = ['worse', 'better', 'minor', 'changed', 'same', 'unknown'];

function isDeltaView(v: unknown): boolean {
  return isObject(v) && isString(v.a) && isString(v.b) && isString(v.delta) && isString(v.percent) && TONES.includes(v.tone);
}

function isRunView(v: unknown): boolean {
  return isObject(v) && isJobKey(v) && isString(v.title) && isString(v.status) && isStringOrNull(v.start_time) && isStringOrNull(v.app_name) && isStringOrNull(v.spark_version) && isString(v.source) && typeof v.has_stages === 'boolean';
}

const isStageSide = (v: unknown): boolean => v === null || (isObject(v) && isString(v.id) && isString(v.status));

function isStageView(v: unknown): boolean {
  if (!isObject(v) || typeof v.order !== 'number' || !isStringOrNull(v.name) || ![null, 'name', 'stage_id'].includes(v.matched_by as string | null) || !isStageSide(v.a) || !isStageSide(v.b)) return false;
  const { cells, change } = v;
  return isObject(cells) && isObject(change) && STAGE_COLUMNS.every((c) => isDeltaView(cells[c.key]) && (change[c.key] === null || typeof change[c.key] === 'number'));
}

function isConfigRow(v: unknown): boolean {
  return isObject(v) && isString(v.key) && isStringOrNull(v.a) && isStringOrNull(v.b) && typeof v.per_run === 'boolean';
}

function isModel(v: unknown): v is CompareModel {
  return (
    isObject(v) &&
    isString(v.title) &&
    isRunView(v.a) &&
    isRunView(v.b) &&
    Array.isArray(v.metrics) &&
    v.metrics.every((m) => isDeltaView(m) && isString((m as Record<string, unknown>).field) && isString((m as Record<string, unknown>).label)) &&
    Array.isArray(v.stages) &&
    v.stages.every(isStageView) &&
    isString(v.stageSummary) &&
    isStringOrNull(v.stagesNote) &&
    Array.isArray(v.config) &&
    v.config.every(isConfigRow)
  );
}

export function isHostMessage(m: unknown): m is HostMessage {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'model':
      return isModel(m.model);
    case 'missing':
      return isString(m.message);
    default:
      return false;
  }
}

export function isPageMessage(m: unknown): m is PageMessage {
  return isObject(m) && (m.type === 'ready' || m.type === 'swap' || (m.type === 'openRun' && (m.side === 'a' || m.side === 'b')));
}

export function isStageSort(v: unknown): v is StageSort {
  return (STAGE_SORTS as readonly unknown[]).includes(v);
}

export function isPageState(v: unknown): v is PageState {
  return isObject(v) && isJobKey(v.a) && isJobKey(v.b) && isStageSort(v.sort) && typeof v.descending === 'boolean' && isString(v.stageQuery) && isString(v.configQuery) && typeof v.showPerRun === 'boolean';
}
