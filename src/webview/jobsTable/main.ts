/// <reference lib="dom" />
/**
 * The Jobs table webview (issue 15): every collected job, paged from SQL by the host. Bundled for the
 * browser by scripts/build.mjs into dist/webview/jobsTable.js.
 *
 * Only the rows on screen exist in the page: the grid's body is as tall as all matching jobs, the
 * rows drawn are the visible ones (plus a margin), and the pages of rows they need are asked of the
 * host (PAGE_ROWS at a time) and kept while the query stays the same. A request's id tells answers
 * to an old query from answers to the current one, which are the only ones drawn.
 *
 * Keyboard: Tab reaches the filters, the column headers (sort buttons) and the grid; in the grid the
 * arrows, Page Up/Down, Home and End move, Space selects, Enter opens the job. Inputs are
 * @vscode-elements/elements; colours only VS Code's --vscode-* variables.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-multi-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '../common/page.css';
import './jobsTable.css';
import type { RecordColumn } from '../../storage/fields';
import { jobKeyText, type JobKey } from '../../views/jobPage/protocol';
import { DEFAULT_COLUMNS, DEFAULT_QUERY, PAGE_ROWS, gridColumns as tableColumns, type ColumnInfo, type TableChoices, type TableQuery, type TableRow } from '../../views/jobsTable/model';
import { isHostMessage, isPageState, type PageMessage, type PageState } from '../../views/jobsTable/protocol';
import { h, vsCodeApi } from '../common/page';

const vscode = vsCodeApi<PageMessage, PageState>();
const app = document.getElementById('app')!;

/** Row height in px: the body's height and each row's place follow from it (jobsTable.css uses the same). */
const ROW_H = 26;
/** Rows drawn above and below the visible ones, so a small scroll shows rows already drawn. */
const MARGIN = 10;

const saved = vscode.getState();
let query: TableQuery = isPageState(saved) ? saved.query : { ...DEFAULT_QUERY };
let shown: RecordColumn[] = isPageState(saved) && saved.columns.length > 0 ? (saved.columns as RecordColumn[]) : [...DEFAULT_COLUMNS];
let columns: readonly ColumnInfo[] = [];
let choices: TableChoices = { users: [], sources: [], statuses: [] };
let quickFilters: readonly { label: string; condition: string }[] = [];

/** The id of the current query's first request; answers with a smaller id are for an older query. */
let queryId = 0;
let nextId = 1;
let total: number | null = null;
let lastMs = 0;
const pages = new Map<number, TableRow[]>();
const asked = new Set<number>();
/** The next request asks for the total too: set by a new query or a changed database. */
let needTotal = true;
let errors: string[] = [];

/** Selected jobs, in the order they were picked. */
const selected = new Map<string, JobKey>(isPageState(saved) ? (saved.selected ?? []).map((k) => [jobKeyText(k), k]) : []);
/** The grid's active row (keyboard), an index into all matching jobs. */
let cursor = 0;

const columnInfo = (c: RecordColumn): ColumnInfo | undefined => columns.find((x) => x.column === c);

function saveState(): void {
  vscode.setState({ query, columns: shown, selected: [...selected.values()] });
}

// ---- asking the host ---------------------------------------------------------------------------

function ask(page: number): void {
  if (asked.has(page) || pages.has(page)) return;
  asked.add(page);
  vscode.postMessage({ type: 'rows', id: nextId++, query, offset: page * PAGE_ROWS, limit: PAGE_ROWS, count: needTotal });
  needTotal = false;
}

/** Forgets every row and asks again from the top (a new query), or where the reader is (`keepPlace`). */
function requery(keepPlace = false): void {
  queryId = nextId;
  pages.clear();
  asked.clear();
  needTotal = true;
  if (!keepPlace) {
    total = null;
    cursor = 0;
    if (scroller) scroller.scrollTop = 0;
  }
  saveState();
  updateHeader();
  drawRows();
  if (!keepPlace || total === null) ask(0);
}

// ---- the toolbar ---------------------------------------------------------------------------------

type ValueElement = HTMLElement & { value: string };
type MultiElement = HTMLElement & { value: string[] };

let debounce: number | undefined;
function later(run: () => void): void {
  clearTimeout(debounce);
  debounce = window.setTimeout(run, 250);
}

function textField(id: string, label: string, placeholder: string, value: string, onInput: (v: string) => void, type = 'text'): ValueElement {
  const f = h('vscode-textfield', { id, placeholder, 'aria-label': label, type }) as ValueElement;
  f.value = value;
  f.addEventListener('input', () => later(() => onInput(f.value)));
  f.addEventListener('change', () => {
    clearTimeout(debounce);
    onInput(f.value);
  });
  return f;
}

function select(id: string, label: string, options: readonly string[], value: string | null, onChange: (v: string | null) => void): HTMLElement {
  const s = h('vscode-single-select', { id, 'aria-label': label, title: label }) as ValueElement;
  s.append(h('vscode-option', { value: '' }, `Any ${label.toLowerCase()}`), ...options.map((o) => h('vscode-option', { value: o }, o)));
  s.value = value ?? '';
  s.addEventListener('change', () => onChange(s.value === '' ? null : s.value));
  return s;
}

function button(label: string, onClick: () => void, attrs: Record<string, string | boolean | undefined> = {}): HTMLElement {
  const b = h('vscode-button', { ...attrs, role: 'button' }, label);
  b.addEventListener('click', onClick);
  return b;
}

function setQuery(change: Partial<TableQuery>): void {
  query = { ...query, ...change };
  requery();
}

function toolbar(): HTMLElement {
  const filters = h(
    'div',
    { class: 'filters', role: 'search' },
    textField('search', 'Search names, application ids and users', 'Search name, app id, user', query.text, (v) => v !== query.text && setQuery({ text: v })),
    select('status', 'Status', choices.statuses, query.status, (v) => setQuery({ status: v as TableQuery['status'] })),
    select('user', 'User', choices.users, query.user, (v) => setQuery({ user: v })),
    select('source', 'Source', choices.sources, query.source, (v) => setQuery({ source: v })),
    h(
      'span',
      { class: 'days', title: 'Jobs that ended (running ones: started) on these days, local time' },
      'Ended ',
      textField('from', 'First day (end time)', 'YYYY-MM-DD', query.from ?? '', (v) => setQuery({ from: v || null }), 'date'),
      ' to ',
      textField('to', 'Last day (end time)', 'YYYY-MM-DD', query.to ?? '', (v) => setQuery({ to: v || null }), 'date'),
    ),
  );
  const conditions = textField('conditions', 'Conditions, as jobs --where takes them, separated by commas', 'Conditions: failed>0, spill>1g, duration>1h', query.conditions, (v) => v !== query.conditions && setQuery({ conditions: v }));
  const quick = quickFilters.map((q) =>
    button(
      q.label,
      () => {
        const present = query.conditions.split(',').map((c) => c.trim());
        if (present.includes(q.condition)) return;
        setQuery({ conditions: [...present.filter((c) => c !== ''), q.condition].join(', ') });
        render();
      },
      { secondary: true, class: 'quick', 'data-condition': q.condition, title: `Add the condition ${q.condition}` },
    ),
  );
  const regressed = button(
    query.regressed ? 'Regressed only ✓' : 'Regressed only',
    () => {
      setQuery({ regressed: !query.regressed });
      render();
    },
    { secondary: !query.regressed, id: 'regressed', 'aria-pressed': query.regressed ? 'true' : 'false', title: 'Only runs that regressed against their own earlier runs (checked after each collection)' },
  );
  const clear = button(
    'Clear filters',
    () => {
      query = { ...DEFAULT_QUERY, sort: query.sort, descending: query.descending };
      requery();
      render();
    },
    { secondary: true, id: 'clear-filters' },
  );
  const picker = h('vscode-multi-select', { id: 'columns', 'aria-label': 'Columns shown', title: 'Columns shown' }) as MultiElement;
  picker.append(...columns.map((c) => h('vscode-option', { value: c.column, selected: shown.includes(c.column) }, c.label)));
  picker.addEventListener('change', () => {
    const picked = columns.map((c) => c.column).filter((c) => picker.value.includes(c));
    if (picked.length === 0) return; // a table needs a column: keep what it had
    shown = picked;
    saveState();
    render();
  });
  return h(
    'div',
    { class: 'toolbar' },
    filters,
    h('div', { class: 'filters' }, conditions, ...quick, regressed, clear, h('label', { class: 'columns-label' }, 'Columns ', picker)),
    h('div', { class: 'status-row' }, h('span', { id: 'summary', 'aria-live': 'polite' }), h('span', { id: 'selection' }), h('span', { class: 'actions' }, button('Compare', compare, { id: 'compare', disabled: true, title: 'Select two jobs to compare them' }), button('Open', openCursor, { id: 'open', secondary: true, title: 'Open the job under the cursor (Enter)' }))),
    h('div', { id: 'errors', role: 'alert' }),
  );
}

// ---- the grid ---------------------------------------------------------------------------------

let scroller: HTMLElement | undefined;
let body: HTMLElement | undefined;
let rowsBox: HTMLElement | undefined;
let header: HTMLElement | undefined;

const STATUS_GLYPH: Record<string, string> = { pass: '✓', warning: '⚠', error: '✕', sync: '↻', question: '?' };

function gridColumns(): string {
  return tableColumns(shown);
}

function headerRow(): HTMLElement {
  const row = h('div', { class: 'row head', role: 'row', 'aria-rowindex': '1' }, h('div', { role: 'columnheader', class: 'cell check' }, h('span', { class: 'visually-hidden' }, 'Selected')), h('div', { role: 'columnheader', class: 'cell icon' }, h('span', { class: 'visually-hidden' }, 'State')));
  for (const c of shown) {
    const info = columnInfo(c);
    const active = query.sort === c;
    const cell = h('div', { role: 'columnheader', class: `cell${info?.numeric ? ' num' : ''}`, 'aria-sort': active ? (query.descending ? 'descending' : 'ascending') : 'none' });
    const b = h('button', { type: 'button', class: 'sort', 'data-sort': c, title: `Sort by ${(info?.label ?? c).toLowerCase()}` }, info?.label ?? c, h('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (query.descending ? ' ▼' : ' ▲') : ''));
    b.addEventListener('click', () => {
      // A new column starts with its largest values (the slowest, the most failed), text A to Z.
      setQuery(query.sort === c ? { descending: !query.descending } : { sort: c, descending: info?.numeric === true || c.endsWith('_time') });
      updateHeader(`button.sort[data-sort="${c}"]`);
    });
    cell.append(b);
    row.append(cell);
  }
  return row;
}

function updateHeader(focus?: string): void {
  if (!header) return;
  const fresh = headerRow();
  header.replaceWith(fresh);
  header = fresh;
  if (focus) header.querySelector<HTMLElement>(focus)?.focus();
}

function rowAt(index: number): TableRow | undefined {
  return pages.get(Math.floor(index / PAGE_ROWS))?.[index % PAGE_ROWS];
}

function rowElement(index: number): HTMLElement {
  const r = rowAt(index);
  const active = index === cursor;
  if (!r) return h('div', { class: 'row loading', role: 'row', 'aria-rowindex': String(index + 2), 'data-index': String(index), tabindex: active ? '0' : '-1' }, h('div', { class: 'cell wide', role: 'gridcell' }, 'Loading…'));
  const isSelected = selected.has(jobKeyText(r.key));
  const row = h('div', { class: `row${isSelected ? ' selected' : ''}`, role: 'row', 'aria-rowindex': String(index + 2), 'aria-selected': String(isSelected), 'data-index': String(index), 'data-app-id': r.key.app_id, tabindex: active ? '0' : '-1' });
  const check = h('input', { type: 'checkbox', tabindex: '-1', 'aria-label': `Select ${r.cells.app_name !== '-' ? r.cells.app_name : r.key.app_id}`, checked: isSelected });
  check.addEventListener('click', (e) => {
    e.stopPropagation();
    toggle(index);
  });
  row.append(h('div', { class: 'cell check', role: 'gridcell' }, check), h('div', { class: `cell icon state-${r.icon}${r.regressed !== null ? ' regressed' : ''}`, role: 'gridcell', title: r.iconText }, h('span', { 'aria-label': r.iconText }, STATUS_GLYPH[r.icon] ?? '•')));
  if (r.regressed !== null) row.setAttribute('data-regressed', r.regressed);
  for (const c of shown) {
    const info = columnInfo(c);
    row.append(h('div', { class: `cell${info?.numeric ? ' num' : ''}${c === 'status' ? ` status-${r.cells.status}` : ''}`, role: 'gridcell', title: r.cells[c], 'data-column': c }, r.cells[c]));
  }
  row.addEventListener('click', () => setCursor(index, false));
  row.addEventListener('dblclick', () => open(index));
  return row;
}

/** Draws the rows in view (and a margin) from the pages at hand, and asks for the pages missing. */
function drawRows(): void {
  if (!scroller || !body || !rowsBox) return;
  const count = total ?? 0;
  body.style.height = `${count * ROW_H}px`;
  scroller.setAttribute('aria-rowcount', String(count + 1));
  if (count === 0) {
    rowsBox.replaceChildren();
    return;
  }
  const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_H) - MARGIN);
  const last = Math.min(count - 1, Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW_H) + MARGIN);
  for (let p = Math.floor(first / PAGE_ROWS); p <= Math.floor(last / PAGE_ROWS); p++) ask(p);
  const hadFocus = rowsBox.contains(document.activeElement);
  const rows: HTMLElement[] = [];
  for (let i = first; i <= last; i++) rows.push(rowElement(i));
  rowsBox.style.transform = `translateY(${first * ROW_H}px)`;
  rowsBox.replaceChildren(...rows);
  if (hadFocus) rowsBox.querySelector<HTMLElement>(`[data-index="${cursor}"]`)?.focus({ preventScroll: true });
}

function updateStatus(): void {
  const summary = document.getElementById('summary');
  if (summary) {
    const sortLabel = columnInfo(query.sort)?.label ?? query.sort;
    summary.textContent = total === null ? 'Loading…' : `${total.toLocaleString('en-US')} ${total === 1 ? 'job' : 'jobs'} · sorted by ${sortLabel} ${query.descending ? '▼' : '▲'} · read in ${lastMs} ms`;
  }
  const selection = document.getElementById('selection');
  if (selection) selection.textContent = selected.size === 0 ? 'Space or the checkbox selects; select two to compare.' : `${selected.size} selected${selected.size === 2 ? '' : selected.size > 2 ? ' (compare takes two)' : ' (select one more to compare)'}`;
  const compareButton = document.getElementById('compare');
  if (compareButton) compareButton.toggleAttribute('disabled', selected.size !== 2);
  const box = document.getElementById('errors');
  if (box) box.replaceChildren(...errors.map((e) => h('p', { class: 'error' }, e)));
}

function toggle(index: number): void {
  const r = rowAt(index);
  if (!r) return;
  const k = jobKeyText(r.key);
  if (selected.has(k)) selected.delete(k);
  else selected.set(k, r.key);
  saveState();
  drawRows();
  updateStatus();
}

function open(index: number): void {
  const r = rowAt(index);
  if (r) vscode.postMessage({ type: 'openJob', key: r.key });
}

function openCursor(): void {
  open(cursor);
}

function compare(): void {
  if (selected.size !== 2) return;
  const [a, b] = [...selected.values()] as [JobKey, JobKey];
  vscode.postMessage({ type: 'compare', a, b });
}

/** Moves the active row, scrolling it into view; `focus` puts the keyboard focus on it. */
function setCursor(index: number, focus = true): void {
  if (!scroller || total === null || total === 0) return;
  cursor = Math.max(0, Math.min(total - 1, index));
  const top = cursor * ROW_H;
  const headerHeight = header?.offsetHeight ?? ROW_H;
  if (top < scroller.scrollTop) scroller.scrollTop = top;
  else if (top + ROW_H > scroller.scrollTop + scroller.clientHeight - headerHeight) scroller.scrollTop = top + ROW_H - scroller.clientHeight + headerHeight;
  drawRows();
  if (focus) rowsBox?.querySelector<HTMLElement>(`[data-index="${cursor}"]`)?.focus({ preventScroll: true });
}

function onKey(e: KeyboardEvent): void {
  if (!scroller) return;
  const pageRows = Math.max(1, Math.floor(scroller.clientHeight / ROW_H) - 2);
  const moves: Record<string, () => number> = {
    ArrowDown: () => cursor + 1,
    ArrowUp: () => cursor - 1,
    PageDown: () => cursor + pageRows,
    PageUp: () => cursor - pageRows,
    Home: () => 0,
    End: () => (total ?? 1) - 1,
  };
  const move = moves[e.key];
  if (move) {
    e.preventDefault();
    setCursor(move());
  } else if (e.key === ' ') {
    e.preventDefault();
    toggle(cursor);
  } else if (e.key === 'Enter') {
    e.preventDefault();
    open(cursor);
  }
}

function grid(): HTMLElement {
  header = headerRow();
  rowsBox = h('div', { class: 'rows', role: 'rowgroup' });
  body = h('div', { class: 'body' }, rowsBox);
  scroller = h('div', { class: 'grid', role: 'grid', 'aria-label': 'Collected jobs', 'aria-multiselectable': 'true' }, header, body);
  // Through the CSSOM: the page's Content-Security-Policy refuses inline style attributes.
  scroller.style.setProperty('--cols', gridColumns());
  scroller.style.setProperty('--row-h', `${ROW_H}px`);
  let frame = 0;
  scroller.addEventListener('scroll', () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(drawRows);
  });
  rowsBox.addEventListener('keydown', onKey);
  return scroller;
}

function render(): void {
  app.replaceChildren(toolbar(), grid());
  app.setAttribute('aria-busy', 'false');
  updateStatus();
  drawRows();
}

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const m = e.data;
  if (!isHostMessage(m)) return; // only the host's protocol is read
  switch (m.type) {
    case 'init': {
      const first = columns.length === 0;
      // Opened to show something (Show Regressed after a collection): those runs, whatever filters were
      // set before (a search would hide them); the sort and the columns stay.
      const override = m.query?.regressed === true;
      if (override) query = { ...DEFAULT_QUERY, sort: query.sort, descending: query.descending, regressed: true };
      // The database changed (a collection, a delete): the toolbar is drawn again only if its choices
      // changed, so a search being typed keeps its focus; the rows are asked again where the reader is.
      const redraw = first || override || JSON.stringify(m.choices) !== JSON.stringify(choices);
      columns = m.columns;
      choices = m.choices;
      quickFilters = m.quickFilters;
      shown = shown.filter((c) => columns.some((x) => x.column === c));
      if (shown.length === 0) shown = [...DEFAULT_COLUMNS];
      if (redraw) render();
      requery(!first && !override);
      return;
    }
    case 'rows': {
      if (m.id < queryId) return;
      asked.delete(m.offset / PAGE_ROWS);
      pages.set(m.offset / PAGE_ROWS, m.rows);
      if (m.total !== null) {
        total = m.total;
        cursor = Math.min(cursor, Math.max(0, total - 1));
      }
      lastMs = m.ms;
      errors = [];
      updateStatus();
      drawRows();
      return;
    }
    case 'invalid':
      if (m.id < queryId) return;
      errors = m.errors;
      total = 0;
      updateStatus();
      drawRows();
      return;
  }
});

window.addEventListener('resize', () => drawRows());

vscode.postMessage({ type: 'ready' });
