/**
 * Messages between the extension host and the Jobs table webview (issue 15), the one protocol file.
 * Both sides check what they receive with the guards below. Pure: the webview bundle imports it.
 *
 * The page asks for rows by position (`rows`, with the query and a request id); the host answers
 * with that page and the total, or with what is wrong with the query. A request id lets the page
 * drop answers to queries it has since replaced.
 */
import { STATUSES } from '../../collectors/record/status';
import { isJobKey, type JobKey } from '../jobPage/protocol';
import { COLUMNS, isColumn, type ColumnInfo, type TableChoices, type TableQuery, type TableRow } from './model';
import { isCount, isObject, isStringOrNull, isStrings } from '../../common/guards';

export type HostMessage =
  /** Host -> page, after `ready` (and when the database changes): the columns and filter choices; the page then asks for rows. */
  | { type: 'init'; columns: readonly ColumnInfo[]; choices: TableChoices; quickFilters: readonly { label: string; condition: string }[]; query?: QueryOverride }
  /** Host -> page: rows `offset`… of the query of request `id`, and how many match in all (null: not counted, as asked). */
  | { type: 'rows'; id: number; total: number | null; offset: number; rows: TableRow[]; ms: number }
  /** Host -> page: the query of request `id` cannot run (a condition that does not parse, a bad date). */
  | { type: 'invalid'; id: number; errors: string[] };

/** What a command opening the table may set on its query: only its runs that regressed (a collection's notification). */
export interface QueryOverride {
  regressed?: boolean;
}

export type PageMessage =
  | { type: 'ready' }
  /** Page -> host: rows `offset`… of `query`; `count` asks for the total too (a new query, or the database changed). */
  | { type: 'rows'; id: number; query: TableQuery; offset: number; limit: number; count: boolean }
  | { type: 'openJob'; key: JobKey }
  | { type: 'compare'; a: JobKey; b: JobKey };

/** What the page keeps across reloads (vscode.setState), and the serializer gets back. */
export interface PageState {
  query: TableQuery;
  columns: string[];
  /** The jobs picked to compare, in the order picked: kept while the tab is hidden (its page is rebuilt when shown) and over a reload. */
  selected?: JobKey[];
}


export function isTableQuery(v: unknown): v is TableQuery {
  return (
    isObject(v) &&
    typeof v.text === 'string' &&
    typeof v.conditions === 'string' &&
    (v.status === null || STATUSES.includes(v.status as never)) &&
    isStringOrNull(v.user) &&
    isStringOrNull(v.source) &&
    isStringOrNull(v.from) &&
    isStringOrNull(v.to) &&
    typeof v.regressed === 'boolean' &&
    isColumn(v.sort) &&
    typeof v.descending === 'boolean'
  );
}

function isRow(v: unknown): v is TableRow {
  return isObject(v) && isJobKey(v.key) && typeof v.icon === 'string' && typeof v.iconText === 'string' && isStringOrNull(v.regressed) && isObject(v.cells) && COLUMNS.every((c) => typeof (v.cells as Record<string, unknown>)[c.column] === 'string');
}


export function isHostMessage(m: unknown): m is HostMessage {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'init':
      return (
        Array.isArray(m.columns) &&
        m.columns.every((c) => isObject(c) && isColumn(c.column) && typeof c.label === 'string' && typeof c.numeric === 'boolean') &&
        isObject(m.choices) &&
        isStrings(m.choices.users) &&
        isStrings(m.choices.sources) &&
        isStrings(m.choices.statuses) &&
        Array.isArray(m.quickFilters) &&
        m.quickFilters.every((q) => isObject(q) && typeof q.label === 'string' && typeof q.condition === 'string') &&
        (m.query === undefined || (isObject(m.query) && (m.query.regressed === undefined || typeof m.query.regressed === 'boolean')))
      );
    case 'rows':
      return isCount(m.id) && (m.total === null || isCount(m.total)) && isCount(m.offset) && Array.isArray(m.rows) && m.rows.every(isRow) && typeof m.ms === 'number';
    case 'invalid':
      return isCount(m.id) && isStrings(m.errors);
    default:
      return false;
  }
}

export function isPageMessage(m: unknown): m is PageMessage {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'ready':
      return true;
    case 'rows':
      return isCount(m.id) && isTableQuery(m.query) && isCount(m.offset) && isCount(m.limit) && m.limit > 0 && m.limit <= 1000 && typeof m.count === 'boolean';
    case 'openJob':
      return isJobKey(m.key);
    case 'compare':
      return isJobKey(m.a) && isJobKey(m.b);
    default:
      return false;
  }
}

export function isPageState(v: unknown): v is PageState {
  return isObject(v) && isTableQuery(v.query) && Array.isArray(v.columns) && v.columns.every(isColumn) && (v.selected === undefined || (Array.isArray(v.selected) && v.selected.every(isJobKey)));
}
