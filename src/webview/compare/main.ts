/// <reference lib="dom" />
/**
 * The Compare webview (issue 15): renders the view model the host sends (src/views/compare/model.ts)
 * and nothing else; its sort and filter functions come from the model too. Bundled for the browser by
 * scripts/build.mjs into dist/webview/compare.js. Inputs and buttons are @vscode-elements/elements,
 * tables are semantic HTML whose sortable headers are buttons (as on the Job page). Colours come only
 * from VS Code's --vscode-* CSS variables, so a theme change needs no redraw (there is no chart to
 * repaint). The stage sort, both filters and the per-run toggle survive a reload (setState).
 *
 * For tests and screenshots: sections #runs, #metrics, #stages, #config; metric rows carry
 * data-field and data-tone, stage rows data-match, config rows data-key.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '../common/page.css';
import './compare.css';
import { formatLocalTime, plural } from '../../common/format';
import { MINOR_PERCENT, STAGE_COLUMNS, filterConfigRows, filterStageViews, sortStageViews, type CompareModel, type DeltaView, type RunView, type StageSideView, type StageSort, type StageView } from '../../views/compare/model';
import { isHostMessage, isPageState, type PageMessage, type PageState } from '../../views/compare/protocol';
import { h, showPage, vsCodeApi } from '../common/page';

const vscode = vsCodeApi<PageMessage, PageState>();
const app = document.getElementById('app')!;
/** How many stage rows are drawn before "Show all" (two 2,000-stage runs stay quick to open). */
const FIRST_ROWS = 200;

let model: CompareModel | undefined;
const saved = vscode.getState();
const restored = isPageState(saved) ? saved : undefined;
let sort: StageSort = restored?.sort ?? 'order';
let descending = restored?.descending ?? false;
let stageQuery = restored?.stageQuery ?? '';
let configQuery = restored?.configQuery ?? '';
let showPerRun = restored?.showPerRun ?? false;
let showAllStages = false;

function saveState(): void {
  if (!model) return;
  const key = (r: RunView): PageState['a'] => ({ app_id: r.app_id, attempt_id: r.attempt_id });
  vscode.setState({ a: key(model.a), b: key(model.b), sort, descending, stageQuery, configQuery, showPerRun });
}

type TextField = HTMLElement & { value: string };
type Checkbox = HTMLElement & { checked: boolean };

function button(label: string, onClick: () => void, attrs: Record<string, string | boolean | undefined> = {}): HTMLElement {
  const b = h('vscode-button', { ...attrs, role: 'button' }, label);
  b.addEventListener('click', onClick);
  return b;
}

/** A scrolling table box, reachable with Tab so the arrow keys scroll it. */
const tableWrap = (label: string, table: HTMLElement): HTMLElement => h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label }, table);

const TONE_WORDS: Partial<Record<DeltaView['tone'], string>> = { worse: 'worse', better: 'better', minor: 'minor change' };

/** A change cell: coloured by its tone, which is also said in words to a screen reader. */
function changeCell(text: string, d: DeltaView, extra?: string, percent?: string): HTMLTableCellElement {
  const words = TONE_WORDS[d.tone];
  return h('td', { class: `num tone-${d.tone}`, 'data-tone': d.tone, title: extra }, text, percent ? h('span', { class: 'pct' }, ` (${percent})`) : null, words ? h('span', { class: 'visually-hidden' }, ` (${words})`) : null);
}

// ---- the two runs -------------------------------------------------------------------------------

function runCard(side: 'a' | 'b', r: RunView): HTMLElement {
  const facts: [string, string][] = [
    ['App ID', r.app_id],
    ...(r.attempt_id ? ([['Attempt', r.attempt_id]] as [string, string][]) : []),
    ['Started', formatLocalTime(r.start_time)],
    ['Spark', r.spark_version ?? '-'],
    ['Source', r.source],
  ];
  const tag = side === 'a' ? 'A · baseline' : 'B';
  return h(
    'article',
    { class: `run side-${side}`, 'data-side': side, 'aria-labelledby': `run-${side}-h` },
    h('div', { class: 'run-title' }, h('span', { class: 'run-tag' }, tag), h('h2', { id: `run-${side}-h` }, r.title), h('span', { class: `status status-${r.status}` }, r.status)),
    h('dl', { class: 'facts' }, ...facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))),
    button('Open Job Page', () => vscode.postMessage({ type: 'openRun', side }), { secondary: true, title: `Open the Job page of ${r.app_id}` }),
  );
}

function runsSection(m: CompareModel): HTMLElement {
  const swap = button('Swap A and B', () => vscode.postMessage({ type: 'swap' }), { secondary: true, id: 'swap', title: 'Compare the other way round: B becomes the baseline' });
  return h('header', { class: 'page-header', id: 'runs' }, h('div', { class: 'title-row' }, h('h1', {}, m.title), swap), h('div', { class: 'runs' }, runCard('a', m.a), runCard('b', m.b)));
}

// ---- metrics ----------------------------------------------------------------------------------

function metricsSection(m: CompareModel): HTMLElement {
  const section = h('section', { id: 'metrics', 'aria-labelledby': 'metrics-h' }, h('h2', { id: 'metrics-h' }, 'Metrics'));
  section.append(
    h(
      'p',
      { class: 'hint' },
      'Change is B − A. ',
      h('span', { class: 'tone-worse' }, 'Red'),
      ': more time, bytes or failures than A; ',
      h('span', { class: 'tone-better' }, 'green'),
      `: less; dimmed: a minor change (under ${MINOR_PERCENT}%, a second or a MiB). Counts and sizing are not coloured.`,
    ),
  );
  const head = h('tr', {}, ...['Metric', 'A', 'B', 'Change', '%'].map((x, i) => h('th', { scope: 'col', class: i > 0 ? 'num' : undefined }, x)));
  const body = h('tbody');
  for (const row of m.metrics) {
    body.append(h('tr', { 'data-field': row.field, 'data-tone': row.tone }, h('th', { scope: 'row' }, row.label), h('td', { class: 'num' }, row.a), h('td', { class: 'num' }, row.b), changeCell(row.delta, row), changeCell(row.percent, row)));
  }
  section.append(tableWrap('Metrics of A and B', h('table', { class: 'metrics' }, h('thead', {}, head), body)));
  return section;
}

// ---- stages -----------------------------------------------------------------------------------

const MATCH_TEXT = { name: 'name', stage_id: 'stage id' } as const;

function sideCell(s: StageSideView | null): HTMLTableCellElement {
  if (s === null) return h('td', { class: 'num absent' }, '-');
  return h('td', { class: 'num' }, s.id, s.status === 'complete' ? null : h('span', { class: `status status-${s.status}` }, ` ${s.status}`));
}

function matchCell(r: StageView): HTMLTableCellElement {
  if (r.matched_by) return h('td', {}, MATCH_TEXT[r.matched_by]);
  return h('td', { class: 'only' }, r.a ? 'only in A' : 'only in B');
}

interface StageHead {
  label: string;
  sort?: StageSort;
  num?: boolean;
  title?: string;
}

const changeLabel = (c: (typeof STAGE_COLUMNS)[number]): string => (c.key === 'duration_ms' ? 'Duration change' : `${c.label} change`);

const STAGE_HEADS: StageHead[] = [
  { label: 'Stage A', sort: 'order', num: true, title: 'The aligned order: A’s stages, then those only B has' },
  { label: 'Stage B', num: true },
  { label: 'Name', sort: 'name' },
  { label: 'Matched by' },
  { label: 'Duration A', num: true },
  { label: 'Duration B', num: true },
  ...STAGE_COLUMNS.filter((c) => c.key !== 'failed_tasks').map((c) => ({ label: changeLabel(c), sort: c.key, num: true, title: `Sort by the change of ${c.label.toLowerCase()} (a stage only one run has: all of it)` })),
  { label: 'Failed tasks A → B', sort: 'failed_tasks', num: true, title: 'Sort by the change of failed tasks' },
];

function stageCells(r: StageView): HTMLTableCellElement[] {
  const both = r.a !== null && r.b !== null;
  const d = r.cells.duration_ms;
  const cells = [sideCell(r.a), sideCell(r.b), h('td', { class: 'name', title: r.name ?? undefined }, r.name ?? '(no name)'), matchCell(r), h('td', { class: 'num' }, d.a), h('td', { class: 'num' }, d.b)];
  for (const c of STAGE_COLUMNS) {
    const v = r.cells[c.key];
    if (c.key === 'failed_tasks') cells.push(changeCell(`${v.a} → ${v.b}`, v));
    else if (!both) cells.push(h('td', { class: 'num absent' }, '-'));
    // The percent under the change: on one line, two real NewYorkTaxiData runs' stage table ran 300 px past
    // an 1,100 px editor, its shuffle, spill and failed-task columns out of sight.
    else cells.push(changeCell(v.delta, v, `A ${v.a} → B ${v.b}`, v.tone === 'same' || v.percent === '-' ? undefined : v.percent));
  }
  return cells;
}

function stageHead(): HTMLTableRowElement {
  const row = h('tr');
  for (const c of STAGE_HEADS) {
    const th = h('th', { scope: 'col', class: c.num ? 'num' : undefined });
    if (!c.sort) {
      th.append(c.label);
      row.append(th);
      continue;
    }
    const active = c.sort === sort;
    th.setAttribute('aria-sort', active ? (descending ? 'descending' : 'ascending') : 'none');
    const b = h('button', { type: 'button', class: 'sort', 'data-sort': c.sort, title: c.title ?? `Sort by ${c.label.toLowerCase()}` }, c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (descending ? ' ▼' : ' ▲') : ''));
    b.addEventListener('click', () => {
      if (sort === c.sort) descending = !descending;
      else {
        sort = c.sort!;
        // A change column: the largest rises (the regressions) first.
        descending = c.sort !== 'order' && c.sort !== 'name';
      }
      saveState();
      render(`button.sort[data-sort="${c.sort}"]`);
    });
    th.append(b);
    row.append(th);
  }
  return row;
}

function stagesSection(m: CompareModel): HTMLElement {
  const section = h('section', { id: 'stages', 'aria-labelledby': 'stages-h' }, h('h2', { id: 'stages-h' }, `Stages (${m.stages.length.toLocaleString('en-US')})`));
  if (m.stagesNote) section.append(h('p', { class: 'note' }, m.stagesNote));
  if (m.stages.length === 0) return section;
  section.append(
    h('p', { class: 'hint', id: 'stage-summary' }, `${m.stageSummary}. Stages are aligned by name (the k-th of a name in A with the k-th in B), the rest by stage id; a stage's attempts are added up. Sort by a change with its header button: the largest rise first.`),
  );
  const field = h('vscode-textfield', { placeholder: 'Filter by name or stage id', 'aria-label': 'Filter the stages', id: 'stage-filter' }) as TextField;
  field.value = stageQuery;
  const count = h('span', { class: 'hint', 'aria-live': 'polite' });
  const box = h('div');
  const fill = (): void => {
    const rows = sortStageViews(filterStageViews(m.stages, stageQuery), sort, descending);
    const shown = showAllStages ? rows : rows.slice(0, FIRST_ROWS);
    count.textContent = `${rows.length.toLocaleString('en-US')} of ${m.stages.length.toLocaleString('en-US')}`;
    const body = h('tbody', {}, ...shown.map((r) => h('tr', { 'data-match': r.matched_by ?? (r.a ? 'only_a' : 'only_b'), 'data-tone': r.cells.duration_ms.tone }, ...stageCells(r))));
    box.replaceChildren(tableWrap('Stages of A and B, aligned', h('table', { class: 'stages' }, h('thead', {}, stageHead()), body)));
    if (shown.length < rows.length) {
      box.append(
        button(`Show all ${plural(rows.length, 'stage')}`, () => {
          showAllStages = true;
          fill();
        }, { secondary: true }),
      );
    }
  };
  field.addEventListener('input', () => {
    stageQuery = field.value;
    saveState();
    fill();
  });
  fill();
  section.append(h('div', { class: 'search-row' }, field, count), box);
  return section;
}

// ---- config -----------------------------------------------------------------------------------

const valueCell = (v: string | null): HTMLTableCellElement => (v === null ? h('td', { class: 'absent' }, '(not set)') : h('td', { class: 'value' }, v));

function configSection(m: CompareModel): HTMLElement {
  const perRun = m.config.filter((r) => r.per_run).length;
  const differ = m.config.length - perRun;
  const title = m.configNote !== null ? 'Configuration: not collected' : differ === 0 ? 'Configuration: no property differs' : `Configuration: ${differ} ${differ === 1 ? 'property differs' : 'properties differ'}`;
  const section = h('section', { id: 'config', 'aria-labelledby': 'config-h' }, h('h2', { id: 'config-h' }, title));
  if (m.configNote !== null) {
    section.append(h('p', { class: 'note' }, m.configNote));
    return section;
  }
  section.append(h('p', { class: 'hint' }, 'Only the Spark properties whose values differ. Secrets are redacted when a job is collected, so two redacted values look the same.'));
  const field = h('vscode-textfield', { placeholder: 'Filter properties and values', 'aria-label': 'Filter the configuration diff', id: 'config-filter' }) as TextField;
  field.value = configQuery;
  const toggle = h('vscode-checkbox', { id: 'per-run', label: `Show the ${perRun} set anew for every run (app id, driver host…)` }) as Checkbox;
  toggle.checked = showPerRun;
  if (perRun === 0) toggle.setAttribute('disabled', '');
  const count = h('span', { class: 'hint', 'aria-live': 'polite' });
  const box = h('div');
  const fill = (): void => {
    const rows = filterConfigRows(m.config, configQuery, showPerRun);
    count.textContent = `${rows.length} shown`;
    if (rows.length === 0) {
      const why =
        m.config.length === 0 ? 'The two runs have the same Spark properties.' : differ === 0 && !showPerRun && !configQuery.trim() ? 'Only the properties Spark sets anew for every run differ (tick the box to list them).' : 'No differing property matches the filter.';
      box.replaceChildren(h('p', { class: 'note' }, why));
      return;
    }
    const head = h('tr', {}, ...['Property', 'A', 'B'].map((x) => h('th', { scope: 'col' }, x)));
    const body = h('tbody', {}, ...rows.map((r) => h('tr', { 'data-key': r.key, class: r.per_run ? 'per-run' : undefined }, h('th', { scope: 'row', class: 'key' }, r.key), valueCell(r.a), valueCell(r.b))));
    box.replaceChildren(tableWrap('Spark properties that differ', h('table', { class: 'config' }, h('thead', {}, head), body)));
  };
  field.addEventListener('input', () => {
    configQuery = field.value;
    saveState();
    fill();
  });
  toggle.addEventListener('change', () => {
    showPerRun = toggle.checked;
    saveState();
    fill();
  });
  fill();
  section.append(h('div', { class: 'search-row' }, field, toggle, count), box);
  return section;
}

/** Draws the whole page from the model; `focus` names the element to focus again (a sort button). */
function render(focus?: string): void {
  if (!model) return;
  showPage(app, [runsSection(model), metricsSection(model), stagesSection(model), configSection(model)], focus);
}

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const m = e.data;
  if (!isHostMessage(m)) return; // only the host's protocol is read
  if (m.type === 'missing') {
    model = undefined;
    app.replaceChildren(h('p', { class: 'note' }, m.message));
    app.setAttribute('aria-busy', 'false');
    return;
  }
  model = m.model;
  document.title = model.title;
  saveState();
  render();
});

vscode.postMessage({ type: 'ready' });
