/// <reference lib="dom" />
/**
 * The Job page webview (issue 15): renders the view model the host sends (src/views/jobPage/model.ts)
 * and nothing else. Bundled for the browser by scripts/build.mjs into dist/webview/jobPage.js.
 * Charts are uPlot (the timeline is drawn by a draw hook: bars per stage attempt, lanes packed by
 * the model), inputs and buttons are @vscode-elements/elements, tables are semantic HTML whose
 * sortable headers are buttons. Colours come only from VS Code's --vscode-* CSS variables, read
 * again when the theme changes. Sort order and the config search survive a reload (setState).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import '../common/page.css';
import './jobPage.css';
import { filterConfig, offsetText, sortStages, type GanttRow, type JobPageModel, type StageRow, type StageSort } from '../../views/jobPage/model';
import { isHostMessage, isPageState, type EventLogInfo, type PageMessage, type PageState } from '../../views/jobPage/protocol';
import { formatDuration, plural } from '../../common/format';
import { DURATION_S_INCRS } from '../common/axis';
import { cssVar, followThemeAndSize, h, inkOn, showPage, vsCodeApi } from '../common/page';

const vscode = vsCodeApi<PageMessage, PageState>();
const app = document.getElementById('app')!;
/** How many stage rows are drawn before "Show all" (a 2,000-stage table stays quick to open). */
const FIRST_ROWS = 200;

let model: JobPageModel | undefined;
let eventLog: EventLogInfo = { path: null, note: '' };
const saved = vscode.getState();
let sort: StageSort = isPageState(saved) ? saved.sort : 'duration';
let descending = isPageState(saved) ? saved.descending : true;
let configQuery = isPageState(saved) ? saved.configQuery : '';
let showAllStages = false;
const charts: uPlot[] = [];

function saveState(): void {
  if (model) vscode.setState({ key: model.key, sort, descending, configQuery });
}

function button(label: string, onClick: () => void, attrs: Record<string, string | boolean | undefined> = {}): HTMLElement {
  const b = h('vscode-button', { ...attrs, role: 'button' }, label);
  b.addEventListener('click', onClick);
  return b;
}

function header(m: JobPageModel): HTMLElement {
  const facts = h('dl', { class: 'facts' });
  for (const f of m.facts) facts.append(h('div', {}, h('dt', {}, f.label), h('dd', {}, f.value)));
  const logButton = button('Open Event Log', () => vscode.postMessage({ type: 'openEventLog' }), { secondary: true, title: eventLog.path ? `${eventLog.path} (${eventLog.note})` : eventLog.note, disabled: eventLog.path === null });
  return h(
    'header',
    { class: 'page-header' },
    h('div', { class: 'title-row' }, h('h1', {}, m.title), h('div', { class: 'actions' }, button('Open Record as JSON', () => vscode.postMessage({ type: 'openJson' }), { secondary: true }), logButton)),
    facts,
  );
}

function cards(m: JobPageModel): HTMLElement {
  const list = h('ul', { class: 'cards', 'aria-label': 'Key metrics' });
  for (const c of m.cards) list.append(h('li', { class: `card tone-${c.tone}`, 'data-card': c.id }, h('span', { class: 'card-label' }, c.label), h('span', { class: 'card-value' }, c.value), h('span', { class: 'card-detail' }, c.detail)));
  return list;
}

// ---- charts ---------------------------------------------------------------------------------

interface Palette {
  fg: string;
  grid: string;
  bar: string;
  costly: string;
  failed: string;
  active: string;
  line: string;
  font: string;
}

function palette(): Palette {
  const family = cssVar('--vscode-font-family', 'sans-serif');
  return {
    fg: cssVar('--vscode-charts-foreground', cssVar('--vscode-foreground', '#888')),
    grid: cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.3)'),
    bar: cssVar('--vscode-charts-blue', '#3794ff'),
    costly: cssVar('--vscode-charts-orange', '#d18616'),
    failed: cssVar('--vscode-charts-red', '#f14c4c'),
    active: cssVar('--vscode-charts-green', '#89d185'),
    line: cssVar('--vscode-charts-purple', '#b180d7'),
    font: `11px ${family}`,
  };
}

function axes(p: Palette, yLabel: string, yValues?: uPlot.Axis['values']): uPlot.Axis[] {
  const common = { stroke: p.fg, font: p.font, grid: { stroke: p.grid, width: 1 }, ticks: { stroke: p.grid, width: 1 } };
  return [
    // Steps of 15 s, 1 min, 5 min…, not uPlot's 50 s (+1m 40s, +3m 20s): src/webview/common/axis.ts.
    { ...common, space: 90, incrs: [...DURATION_S_INCRS], values: (_u, splits) => splits.map((s) => offsetText(s)) },
    { ...common, label: yLabel, labelFont: p.font, size: 50, ...(yValues ? { values: yValues } : {}) },
  ];
}

/**
 * Both charts: drag across one to zoom in on a time span, double-click to zoom out; the other follows.
 * A long application with short stages (Spark's application_1516285256255_0012: its two stages take
 * 3 s of 7m 53s) is otherwise two slivers.
 */
const zoomCursor = (): uPlot.Cursor => ({ sync: { key: 'job' }, y: false, points: { show: false }, drag: { x: true, y: false, setScale: true } });
const timeScale = (): uPlot.Scale => ({ time: false, range: (_u, min, max) => [Math.max(0, min), max > min ? max : min + 1] });

/** Keeps the charts on one time span: a zoom in one is applied to the others. */
function followZoom(u: uPlot): void {
  const min = u.scales.x?.min;
  const max = u.scales.x?.max;
  if (min === undefined || max === undefined) return;
  for (const other of charts) {
    if (other === u || (other.scales.x?.min === min && other.scales.x?.max === max)) continue;
    other.setScale('x', { min, max });
  }
}

function barColour(g: GanttRow, p: Palette): string {
  if (g.status === 'failed') return p.failed;
  if (g.costly) return p.costly;
  if (g.status === 'active') return p.active;
  return p.bar;
}

function ganttChart(m: JobPageModel, width: number, tooltip: HTMLElement, target: HTMLElement): uPlot {
  const p = palette();
  const { gantt, lanes, span } = m.timeline;
  const height = Math.min(420, Math.max(110, lanes * 24 + 50));
  const hit = (u: uPlot, left: number, top: number): GanttRow | undefined => {
    if (left < 0 || top < 0) return undefined;
    const x = u.posToVal(left, 'x');
    const lane = Math.floor(u.posToVal(top, 'y'));
    // A bar at least a few pixels wide is hit: a fraction of the time shown, zoomed or not.
    const shown = (u.scales.x?.max ?? span) - (u.scales.x?.min ?? 0);
    return gantt.find((g) => g.lane === lane && g.start <= x && x <= Math.max(g.end, g.start + shown / 400));
  };
  const u = new uPlot(
    {
      width,
      height,
      legend: { show: false },
      cursor: zoomCursor(),
      scales: { x: timeScale(), y: { range: [lanes, 0] } },
      axes: axes(p, 'stages', (_u, splits) => splits.map(() => '')),
      series: [{}, { show: false }],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            const laneHeight = Math.abs(u.valToPos(1, 'y', true) - u.valToPos(0, 'y', true));
            const barHeight = Math.max(2, laneHeight * 0.7);
            ctx.save();
            ctx.beginPath();
            ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
            ctx.clip();
            ctx.font = `${Math.round(10 * devicePixelRatio)}px ${cssVar('--vscode-font-family', 'sans-serif')}`;
            ctx.textBaseline = 'middle';
            for (const g of gantt) {
              const x0 = u.valToPos(g.start, 'x', true);
              // A pixel's gap at the end, so that a stage that starts as the last one ends is a bar of its own.
              const end = u.valToPos(g.end, 'x', true);
              const x1 = Math.max(x0 + 2, end - (end - x0 > 4 * devicePixelRatio ? devicePixelRatio : 0));
              const y = u.valToPos(g.lane + 0.5, 'y', true) - barHeight / 2;
              const fill = barColour(g, p);
              // Waiting (submitted, no task launched yet: executors not up, or no free core) in a pale
              // bar, running solid: a stage's bar is as long as its wait plus its duration.
              const xr = Math.min(x1, Math.max(x0, u.valToPos(g.runStart, 'x', true)));
              ctx.fillStyle = fill;
              if (xr > x0) {
                ctx.globalAlpha = 0.3;
                ctx.fillRect(x0, y, xr - x0, barHeight);
                ctx.globalAlpha = 1;
              }
              ctx.fillRect(xr, y, Math.max(x1 - xr, Math.min(2, x1 - x0)), barHeight);
              const label = g.key.endsWith('.0') ? g.key.slice(0, -2) : g.key;
              const width = ctx.measureText(label).width + 6;
              if (barHeight > 9 * devicePixelRatio && (x1 - xr > width || x1 - x0 > width)) {
                const onRun = x1 - xr > width;
                ctx.fillStyle = onRun ? inkOn(fill) : p.fg;
                ctx.fillText(label, (onRun ? xr : x0) + 3, y + barHeight / 2);
              }
            }
            ctx.restore();
          },
        ],
        setScale: [(u, key) => key === 'x' && followZoom(u)],
        setCursor: [
          (u) => {
            const g = hit(u, u.cursor.left ?? -1, u.cursor.top ?? -1);
            if (!g) {
              tooltip.hidden = true;
              return;
            }
            tooltip.hidden = false;
            const waited = g.runStart - g.start;
            tooltip.textContent = `${g.label}${g.name ? `: ${g.name}` : ''} · submitted ${offsetText(g.start)}${waited >= 0.05 ? `, first task ${offsetText(g.runStart)}` : ''}, ${g.status === 'active' ? 'running at the end of the log' : `done ${offsetText(g.end)}`} · ran ${g.duration}${waited >= 0.05 ? ` (waited ${formatDuration(Math.round(waited * 1000))} before)` : ''} · ${g.status}${g.costly ? ' · costly' : ''}`;
          },
        ],
      },
    },
    [[0, span > 0 ? span : 1], [null, null]],
    target,
  );
  // A click finds the bar's stage; the end of a drag (a zoom) does not.
  let downX = 0;
  u.over.addEventListener('mousedown', (e) => {
    downX = e.clientX;
  });
  u.over.addEventListener('click', (e) => {
    if (Math.abs(e.clientX - downX) > 3) return;
    const g = hit(u, u.cursor.left ?? -1, u.cursor.top ?? -1);
    if (g) revealStage(g.key);
  });
  return u;
}

function executorChart(m: JobPageModel, width: number, target: HTMLElement): uPlot {
  const p = palette();
  const { t, count, peak } = m.timeline.executors;
  return new uPlot(
    {
      width,
      height: 150,
      legend: { show: false },
      cursor: zoomCursor(),
      scales: { x: timeScale(), y: { range: [0, Math.max(1, peak) * 1.15] } },
      hooks: { setScale: [(u, key) => key === 'x' && followZoom(u)] },
      axes: axes(p, 'executors', (_u, splits) => splits.map((s) => (Number.isInteger(s) ? String(s) : ''))),
      series: [{}, { stroke: p.line, width: 2, fill: `${p.line}33`, paths: uPlot.paths.stepped!({ align: 1 }), points: { show: false } }],
    },
    [t, count],
    target,
  );
}

function timeline(m: JobPageModel): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'timeline-h' }, h('h2', { id: 'timeline-h' }, 'Timeline'));
  if (!m.hasSummaries) return section;
  const { gantt, untimed, skipped, origin } = m.timeline;
  const leftOff = [
    skipped > 0 ? ` ${skipped === 1 ? 'One skipped stage is' : `${skipped} skipped stages are`} not drawn: Spark reused the shuffle output of an earlier job and never ran ${skipped === 1 ? 'it' : 'them'}.` : '',
    untimed > 0 ? ` ${untimed === 1 ? 'One stage attempt without a submission time is' : `${untimed} stage attempts without a submission time are`} not drawn.` : '',
  ].join('');
  section.append(h('p', { class: 'hint' }, `Stage attempts from submission to completion, in time since ${origin ? `${origin.slice(11, 19)} UTC` : 'the start'}: pale while waiting for its first task to launch, solid while running; orange: costly, red: failed. Click a bar to find its stage in the table; drag across a chart to zoom in on a time span, double-click to zoom out.${leftOff}`));
  const ganttBox = h('div', { class: 'chart', role: 'img', 'aria-label': `Timeline of ${gantt.length} stage attempts` });
  const tooltip = h('div', { class: 'chart-tooltip', 'aria-live': 'polite' });
  tooltip.hidden = true;
  const execBox = h('div', { class: 'chart', role: 'img', 'aria-label': `Executors alive over time, at most ${m.timeline.executors.peak}` });
  section.append(ganttBox, tooltip, h('h3', {}, `Executors over time (peak ${m.timeline.executors.peak})`), execBox);
  requestAnimationFrame(() => {
    const width = Math.max(300, ganttBox.clientWidth);
    if (gantt.length > 0) charts.push(ganttChart(m, width, tooltip, ganttBox));
    else ganttBox.append(h('p', { class: 'hint' }, m.stages.length === 0 ? 'No stage ran: the application ran no Spark job.' : m.timeline.skipped === m.stages.length ? 'Every stage was skipped: none ran.' : 'No stage has a submission time.'));
    charts.push(executorChart(m, width, execBox));
  });
  return section;
}

// ---- stages -----------------------------------------------------------------------------------

const STAGE_COLUMNS: { label: string; sort?: StageSort; num?: boolean; cell: (r: StageRow) => Node | string }[] = [
  { label: 'Stage', sort: 'stage', num: true, cell: (r) => (r.attempt > 0 ? `${r.stageId} (attempt ${r.attempt})` : String(r.stageId)) },
  { label: 'Name', cell: (r) => h('span', { class: 'name', title: r.name }, r.shortName) },
  { label: 'Status', cell: (r) => h('span', { class: `status status-${r.status}` }, r.status) },
  { label: 'Duration', sort: 'duration', num: true, cell: (r) => r.duration },
  { label: 'Run time', sort: 'runTime', num: true, cell: (r) => (r.runTime === '-' ? '-' : `${r.runTime} (${Math.round(r.runShare * 100)}%)`) },
  // '-' where Spark never measured CPU time (before 2.1), as the CPU card says, or the stage did not run.
  { label: 'CPU time', num: true, cell: (r) => r.cpuTime },
  { label: 'Tasks (failed)', sort: 'failures', num: true, cell: (r) => (r.failedTasks > 0 || r.status === 'failed' ? h('span', { class: 'bad' }, `${r.tasks} (${r.failedTasks} failed)`) : r.status === 'skipped' && r.tasks === 0 ? '-' : `${r.tasks}`) },
  { label: 'Input / output', num: true, cell: (r) => r.io },
  { label: 'Shuffle read / write', sort: 'shuffle', num: true, cell: (r) => r.shuffle },
  { label: 'Spill (disk)', sort: 'spill', num: true, cell: (r) => h('span', { title: `${r.memorySpill} as held in memory` }, r.spill) },
  { label: 'Task median / max', num: true, cell: (r) => r.taskTimes },
  { label: 'Skew', sort: 'skew', num: true, cell: (r) => r.skewText },
];

function revealStage(key: string): void {
  let row = document.querySelector<HTMLElement>(`tr[data-stage="${CSS.escape(key)}"]`);
  if (!row && !showAllStages) {
    showAllStages = true;
    render();
    row = document.querySelector<HTMLElement>(`tr[data-stage="${CSS.escape(key)}"]`);
  }
  if (!row) return;
  row.scrollIntoView({ block: 'center' });
  row.focus();
}

function stagesTable(m: JobPageModel): HTMLElement {
  const costly = m.stages.filter((r) => r.costly).length;
  const skipped = m.stages.filter((r) => r.status === 'skipped').length;
  const section = h('section', { 'aria-labelledby': 'stages-h' }, h('h2', { id: 'stages-h' }, `Stages (${plural(m.stages.length, 'attempt')}${skipped > 0 ? `, ${skipped} skipped` : ''}, ${costly} costly)`));
  if (!m.hasSummaries) {
    section.append(h('p', { class: 'note' }, m.summariesNote ?? 'Stages are not available for this source.'));
    return section;
  }
  if (m.stages.length === 0) {
    section.append(h('p', { class: 'note' }, 'The source saw no stages for this application.'));
    return section;
  }
  section.append(h('p', { class: 'hint' }, 'Costly (★): the largest stages that together make most of the executor run time, or whose slowest task took several times the median (skew). Sort by a column with its header button.'));
  const rows = sortStages(m.stages, sort, descending);
  const shown = showAllStages ? rows : rows.slice(0, FIRST_ROWS);
  const headRow = h('tr');
  for (const c of STAGE_COLUMNS) {
    const th = h('th', { scope: 'col', class: c.num ? 'num' : undefined });
    if (c.sort) {
      const active = c.sort === sort;
      th.setAttribute('aria-sort', active ? (descending ? 'descending' : 'ascending') : 'none');
      const b = h('button', { type: 'button', class: 'sort', 'data-sort': c.sort, title: `Sort by ${c.label.toLowerCase()}` }, c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (descending ? ' ▼' : ' ▲') : ''));
      b.addEventListener('click', () => {
        if (sort === c.sort) descending = !descending;
        else {
          sort = c.sort!;
          descending = c.sort !== 'stage';
        }
        saveState();
        render(`button.sort[data-sort="${c.sort}"]`);
      });
      th.append(b);
    } else th.append(c.label);
    headRow.append(th);
  }
  const body = h('tbody');
  for (const r of shown) {
    const tr = h('tr', { 'data-stage': r.key, tabindex: '-1', class: r.costly ? 'costly' : undefined, title: r.costly ? `Costly: ${r.costlyReasons.join('; ')}` : undefined });
    STAGE_COLUMNS.forEach((c, i) => {
      const td = h('td', { class: c.num ? 'num' : undefined });
      if (i === 0 && r.costly) td.append(h('span', { class: 'star', 'aria-label': `costly: ${r.costlyReasons.join('; ')}` }, '★ '));
      td.append(c.cell(r));
      if (i === 1 && r.costly) td.append(h('div', { class: 'reason' }, r.costlyReasons.join(' · ')));
      tr.append(td);
    });
    body.append(tr);
  }
  section.append(h('div', { class: 'table-wrap' }, h('table', { class: 'stages' }, h('thead', {}, headRow), body)));
  if (shown.length < rows.length) {
    section.append(
      button(`Show all ${rows.length} stage attempts`, () => {
        showAllStages = true;
        render();
      }, { secondary: true }),
    );
  }
  return section;
}

function simpleTable(caption: string, heads: string[], rows: (Node | string)[][], numeric: boolean[]): HTMLElement {
  const head = h('tr', {}, ...heads.map((x, i) => h('th', { scope: 'col', class: numeric[i] ? 'num' : undefined }, x)));
  const body = h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c, i) => h('td', { class: numeric[i] ? 'num' : undefined }, c)))));
  return h('div', { class: 'table-wrap' }, h('table', {}, h('caption', { class: 'visually-hidden' }, caption), h('thead', {}, head), body));
}

function executorsTable(m: JobPageModel): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'executors-h' }, h('h2', { id: 'executors-h' }, `Executors (${m.executors.length})`));
  if (!m.hasSummaries) {
    section.append(h('p', { class: 'note' }, 'Executors are not available for this source.'));
    return section;
  }
  const rows = m.executors.map((e) => [e.id, e.host, e.cores, e.added, e.removeReason ? `${e.removed} (${e.removeReason})` : e.removed, e.failedTasks > 0 ? h('span', { class: 'bad' }, `${e.tasks} (${e.failedTasks} failed)`) : String(e.tasks), e.gcTime, `${e.shuffleRead} / ${e.shuffleWrite}`]);
  section.append(simpleTable('Executors', ['Executor', 'Host', 'Cores', 'Added', 'Removed', 'Tasks (failed)', 'GC time', 'Shuffle read / write'], rows, [false, false, true, false, false, true, true, true]));
  return section;
}

function configSection(m: JobPageModel): HTMLElement {
  const section = h('section', { class: 'config', 'aria-labelledby': 'config-h' }, h('h2', { id: 'config-h' }, `Configuration (${m.config.length} properties)`));
  const field = h('vscode-textfield', { placeholder: 'Search properties and values', 'aria-label': 'Search the configuration', id: 'config-search' }) as HTMLElement & { value: string };
  field.value = configQuery;
  const count = h('span', { class: 'hint', 'aria-live': 'polite' });
  const box = h('div');
  const fill = (): void => {
    const entries = filterConfig(m.config, configQuery);
    count.textContent = `${entries.length} of ${m.config.length}`;
    box.replaceChildren(simpleTable('Spark configuration', ['Property', 'Value'], entries.map((e) => [e.key, e.value]), [false, false]));
  };
  field.addEventListener('input', () => {
    configQuery = field.value;
    saveState();
    fill();
  });
  fill();
  section.append(h('div', { class: 'search-row' }, field, count), h('p', { class: 'hint' }, 'Secrets are redacted when the job is collected.'), box);
  return section;
}

function qualitySection(m: JobPageModel): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'quality-h' }, h('h2', { id: 'quality-h' }, `Quality flags (${m.flags.length})`));
  if (m.flags.length === 0) {
    section.append(h('p', { class: 'note' }, 'No quality flags: the record is complete.'));
    return section;
  }
  const list = h('ul', { class: 'flags' });
  for (const f of m.flags) {
    list.append(
      h(
        'li',
        { class: `flag sev-${f.severity}` },
        h('code', {}, f.flag),
        h('span', {}, f.text),
        button('Open Event Log', () => vscode.postMessage({ type: 'openEventLog', flag: f.flag }), { secondary: true, disabled: eventLog.path === null, title: eventLog.path ? `${eventLog.path}: the line this comes from, where the log shows it` : eventLog.note }),
      ),
    );
  }
  section.append(list);
  return section;
}

/** The run against its own history (issue 18): the verdict, why, the metrics against the baseline, what changed. */
function regressionSection(m: JobPageModel): HTMLElement | null {
  const r = m.regression;
  if (!r) return null;
  const section = h('section', { id: 'regression', class: `regression status-${r.status}`, 'aria-labelledby': 'regression-h' }, h('h2', { id: 'regression-h' }, 'Against its history'));
  section.append(h('p', { class: `verdict verdict-${r.status}`, role: r.status === 'regressed' ? 'alert' : undefined }, r.headline));
  if (r.explanation) section.append(h('p', { class: 'explanation' }, r.explanation));
  if (r.metrics.length > 0) {
    const rows = r.metrics.map((x) => [x.flagged ? h('span', { class: 'bad', title: x.why }, `⚠ ${x.label}`) : x.label, x.value, x.baseline, x.flagged ? h('span', { class: 'bad' }, x.ratio) : x.ratio]);
    section.append(simpleTable(`This run against the median of ${r.baselineRuns} earlier runs`, ['Metric', 'This run', `Baseline (median of ${r.baselineRuns})`, 'Ratio'], rows, [false, true, true, true]));
  }
  if (r.config.length > 0) {
    section.append(h('h3', {}, `Spark properties that differ from the baseline's (${r.config.length})`), simpleTable('Changed properties', ['Property', 'Baseline', 'This run'], r.config.map((c) => [c.key, c.baseline, c.run]), [false, false, false]));
  }
  if (r.hasName) {
    section.append(
      h(
        'div',
        { class: 'actions' },
        button('Compare with Previous Run', () => vscode.postMessage({ type: 'compareWithPrevious' }), { secondary: true, id: 'compare-previous' }),
        button('Show Trend', () => vscode.postMessage({ type: 'showTrend' }), { secondary: true, id: 'show-trend' }),
      ),
    );
  }
  return section;
}

/** Draws the whole page from the model; `focus` names the element to focus again (a sort button). */
function render(focus?: string): void {
  for (const c of charts.splice(0)) c.destroy();
  if (!model) return;
  const sections = [header(model), cards(model), regressionSection(model), timeline(model), stagesTable(model), executorsTable(model), configSection(model), qualitySection(model)];
  showPage(app, sections.filter((s): s is HTMLElement => s !== null), focus);
}

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const m = e.data;
  if (!isHostMessage(m)) return; // only the host's protocol is read
  if (m.type === 'missing') {
    model = undefined;
    for (const c of charts.splice(0)) c.destroy();
    app.replaceChildren(h('p', { class: 'note' }, m.message));
    return;
  }
  model = m.model;
  eventLog = m.eventLog;
  document.title = `Job: ${model.title}`;
  saveState();
  render();
});

followThemeAndSize(render, () => charts);

vscode.postMessage({ type: 'ready' });
