/// <reference lib="dom" />
/**
 * The Trend webview (issue 15): renders the view model the host sends (src/views/trend/model.ts)
 * and nothing else. Bundled for the browser by scripts/build.mjs into dist/webview/trend.js.
 * The chart is uPlot: one metric at a time (picked with the metric cards), the runs as points over time,
 * each point in the colour the model gives its run (failed runs red), the metric's median as a dashed
 * line across the plot; a click on a point, or on a row of the runs table, opens that run's Job page.
 * Colours come only from VS Code's --vscode-* CSS variables, read again when the theme changes. The
 * picked metric survives a reload (setState).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import '../common/page.css';
import './trend.css';
import { formatBytes, formatDuration, formatLocalTime } from '../../common/format';
import type { Tone } from '../../views/jobPage/model';
import { TREND_METRICS, type TrendMetric, type TrendModel, type TrendPoint } from '../../views/trend/model';
import { isHostMessage, isPageState, type PageMessage, type PageState } from '../../views/trend/protocol';
import { BYTES_INCRS, COUNT_INCRS, DURATION_MS_INCRS, bytesTick, countTick, durationTick } from '../common/axis';
import { cssVar, followThemeAndSize, h, showPage, vsCodeApi } from '../common/page';

const vscode = vsCodeApi<PageMessage, PageState>();
const app = document.getElementById('app')!;

let model: TrendModel | undefined;
let limit: number | null = null;
const saved = vscode.getState();
let metric: TrendMetric = isPageState(saved) ? saved.metric : 'duration_ms';
let chart: uPlot | undefined;

function saveState(): void {
  if (model) vscode.setState({ appName: model.appName, metric });
}

const metricInfo = (key: TrendMetric): (typeof TREND_METRICS)[number] => TREND_METRICS.find((m) => m.key === key)!;

function valueText(key: TrendMetric, v: number | null): string {
  if (v === null) return '-';
  const unit = metricInfo(key).unit;
  if (unit === 'ms') return formatDuration(Math.round(v));
  if (unit === 'bytes') return formatBytes(v);
  return String(Math.round(v * 10) / 10);
}

const yIncrs = (unit: 'ms' | 'bytes' | 'count'): readonly number[] => (unit === 'ms' ? DURATION_MS_INCRS : unit === 'bytes' ? BYTES_INCRS : COUNT_INCRS);
const yTick = (unit: 'ms' | 'bytes' | 'count', v: number, incr: number): string => (unit === 'ms' ? durationTick(v) : unit === 'bytes' ? bytesTick(v, incr) : countTick(v));

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** A time axis label in the reader's zone, 24-hour as the rest of the page: 03:00, 06-11 03:00, 2024-06-11. */
function axisTime(seconds: number, rangeSeconds: number): string {
  const d = new Date(seconds * 1000);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  const md = `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  if (rangeSeconds <= 86_400) return hm;
  if (rangeSeconds <= 14 * 86_400) return `${md} ${hm}`;
  return `${d.getFullYear()}-${md}`;
}

const timeText = (p: TrendPoint): string => formatLocalTime(new Date(p.at).toISOString());
const runText = (p: TrendPoint): string => `${p.app_id}${p.attempt_id ? ` (attempt ${p.attempt_id})` : ''}`;

function openRun(p: TrendPoint): void {
  vscode.postMessage({ type: 'openRun', key: { app_id: p.app_id, attempt_id: p.attempt_id } });
}

function header(m: TrendModel): HTMLElement {
  const first = m.points[0];
  const last = m.points.at(-1);
  const span = first && last ? (first === last ? timeText(first) : `${timeText(first)} → ${timeText(last)}`) : 'no timed run';
  const notes = [
    `${m.points.length} run${m.points.length === 1 ? '' : 's'}`,
    span,
    limit !== null ? `the newest ${limit} runs only` : '',
    m.untimed > 0 ? `${m.untimed} run${m.untimed === 1 ? '' : 's'} without any time left out` : '',
  ].filter(Boolean);
  return h('header', { class: 'page-header' }, h('h1', {}, m.appName), h('p', { class: 'facts' }, notes.join(' · ')));
}

/** One card per metric: the newest run's value, against the median of the runs, in the colour the model gives it (summary's tone). Clicking one picks the metric. */
function cards(m: TrendModel): HTMLElement {
  const list = h('div', { class: 'cards', role: 'group', 'aria-label': 'Metric' });
  const newest = m.points.at(-1);
  for (const info of TREND_METRICS) {
    const s = m.summary[info.key];
    const ratio = s.newestRatio;
    // "×0.00" reads as a glitch: a newest run at zero (no failed task, no spill) shows its 0 as the value.
    const against = ratio === null || ratio === 0 ? '' : ` · ×${ratio.toFixed(2)}`;
    const detail = s.median === null ? (m.points.length < 2 ? 'no earlier run' : 'not measured before') : `median of ${s.earlier} earlier: ${valueText(info.key, s.median)}${against}`;
    const b = h(
      'button',
      { type: 'button', class: `card tone-${s.tone}`, 'data-metric': info.key, 'aria-pressed': info.key === metric ? 'true' : 'false', title: `Chart ${info.label.toLowerCase()} over time` },
      h('span', { class: 'card-label' }, info.label),
      h('span', { class: 'card-value' }, valueText(info.key, newest?.values[info.key] ?? null)),
      h('span', { class: 'card-detail' }, detail),
    );
    b.addEventListener('click', () => {
      metric = info.key;
      saveState();
      render(`button.card[data-metric="${info.key}"]`);
    });
    list.append(b);
  }
  return h('section', { 'aria-label': 'Newest run against the median of the earlier runs' }, h('p', { class: 'hint' }, 'The newest run, and how it compares with the median of the runs before it. Pick a metric to chart it.'), list);
}

function trendChart(m: TrendModel, width: number, tooltip: HTMLElement, target: HTMLElement): uPlot {
  const p = {
    fg: cssVar('--vscode-charts-foreground', cssVar('--vscode-foreground', '#888')),
    grid: cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.3)'),
    line: cssVar('--vscode-charts-blue', '#3794ff'),
    // A point's tone (the model's, TrendPoint.tone) over the line: neutral points keep the line's colour.
    tones: {
      ok: cssVar('--vscode-charts-green', '#89d185'),
      warn: cssVar('--vscode-charts-yellow', '#cca700'),
      error: cssVar('--vscode-charts-red', '#f14c4c'),
      neutral: undefined,
    } satisfies Record<Tone, string | undefined>,
    median: cssVar('--vscode-descriptionForeground', '#999'),
    bg: cssVar('--vscode-editor-background', '#1e1e1e'),
    font: `11px ${cssVar('--vscode-font-family', 'sans-serif')}`,
  };
  const info = metricInfo(metric);
  const xs = m.points.map((pt) => pt.at / 1000);
  const ys = m.points.map((pt) => pt.values[metric]);
  const med = m.summary[metric].median;
  const max = Math.max(0, ...ys.filter((v): v is number => v !== null), med ?? 0);
  // Pad the time axis so the first and last points are not on its edges (a lone run: an hour around it).
  const lo = xs[0] ?? 0;
  const hi = xs.at(-1) ?? 1;
  const pad = hi > lo ? (hi - lo) * 0.08 : 1800;
  const common = { stroke: p.fg, font: p.font, grid: { stroke: p.grid, width: 1 }, ticks: { stroke: p.grid, width: 1 } };
  const u = new uPlot(
    {
      width,
      height: 320,
      legend: { show: false },
      cursor: { y: false, drag: { x: false, y: false }, points: { size: 12, fill: p.line } },
      scales: { x: { time: true, range: [lo - pad, hi + pad] }, y: { range: [0, max > 0 ? max * 1.15 : 1] } },
      axes: [
        { ...common, space: 110, values: (u, splits) => splits.map((t) => axisTime(t, (u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0))) },
        // Steps in the metric's own units, each tick labelled exactly (src/webview/common/axis.ts).
        { ...common, label: `${info.label}`, labelFont: p.font, size: 70, incrs: [...yIncrs(info.unit)], values: (_u, splits, _i, _space, incr) => splits.map((s) => yTick(info.unit, s, incr)) },
      ],
      series: [
        {},
        { label: info.label, stroke: p.line, width: 2, spanGaps: true, points: { show: true, size: 9, fill: p.line, stroke: p.line } },
      ],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            // The median of the runs: a dashed line across the plot, labelled at its right end.
            if (med !== null) {
              const y = u.valToPos(med, 'y', true);
              ctx.strokeStyle = p.median;
              ctx.fillStyle = p.median;
              ctx.lineWidth = devicePixelRatio;
              ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.setLineDash([]);
              ctx.font = `${Math.round(11 * devicePixelRatio)}px ${cssVar('--vscode-font-family', 'sans-serif')}`;
              ctx.textAlign = 'right';
              ctx.textBaseline = 'bottom';
              ctx.fillText(`median ${valueText(metric, med)}`, u.bbox.left + u.bbox.width - 4 * devicePixelRatio, y - 3 * devicePixelRatio);
            }
            // Runs with a tone (failed runs: error): their point in its colour.
            ctx.lineWidth = 2 * devicePixelRatio;
            m.points.forEach((pt, i) => {
              const v = ys[i];
              const colour = p.tones[pt.tone];
              if (colour === undefined || v === null || v === undefined) return;
              ctx.fillStyle = colour;
              ctx.beginPath();
              ctx.arc(u.valToPos(xs[i]!, 'x', true), u.valToPos(v, 'y', true), 6 * devicePixelRatio, 0, 2 * Math.PI);
              ctx.fill();
            });
            ctx.restore();
          },
        ],
        setCursor: [
          (u) => {
            const i = u.cursor.idx;
            const pt = i === null || i === undefined ? undefined : m.points[i];
            if (!pt) {
              tooltip.hidden = true;
              return;
            }
            tooltip.hidden = false;
            tooltip.textContent = `${timeText(pt)} · ${runText(pt)} · ${pt.status} · ${info.label}: ${valueText(metric, pt.values[metric])} — click to open the run`;
          },
        ],
      },
    },
    [xs, ys],
    target,
  );
  u.over.style.cursor = 'pointer';
  u.over.addEventListener('click', () => {
    const i = u.cursor.idx;
    const pt = i === null || i === undefined ? undefined : m.points[i];
    if (pt) openRun(pt);
  });
  return u;
}

function chartSection(m: TrendModel): HTMLElement {
  const info = metricInfo(metric);
  const measured = m.points.filter((pt) => pt.values[metric] !== null).length;
  const section = h('section', { 'aria-labelledby': 'chart-h' }, h('h2', { id: 'chart-h' }, `${info.label} over time`));
  if (measured === 0) {
    section.append(h('p', { class: 'note' }, `No run of ${m.appName} measured ${info.label.toLowerCase()}.`));
    return section;
  }
  section.append(
    h(
      'p',
      { class: 'hint' },
      m.points.length === 1
        ? `One run of ${m.appName} so far: its trend starts with the next run of this name. Click the point to open the run.`
        : `One point per run, by its start time (${Intl.DateTimeFormat().resolvedOptions().timeZone})${measured < m.points.length ? ` (${m.points.length - measured} without a value not drawn)` : ''}; red: failed; dashed: the median of the runs before the newest. Click a point to open the run.`,
    ),
  );
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': `${info.label} of ${measured} runs over time` });
  const tooltip = h('div', { class: 'chart-tooltip', 'aria-live': 'polite' });
  tooltip.hidden = true;
  section.append(box, tooltip);
  requestAnimationFrame(() => {
    chart = trendChart(m, Math.max(300, box.clientWidth), tooltip, box);
  });
  return section;
}

/** A table cell's text in the model's tone: only an error has a text colour on this page (`.bad`, page.css). */
const tonedText = (tone: Tone, text: string): Node | string => (tone === 'error' ? h('span', { class: 'bad' }, text) : text);

const COLUMNS: { label: string; num?: boolean; cell: (p: TrendPoint) => Node | string }[] = [
  { label: 'Started', cell: (p) => timeText(p) },
  { label: 'Application', cell: (p) => h('span', { class: 'run-id', title: runText(p) }, runText(p)) },
  { label: 'Status', cell: (p) => h('span', { class: `status status-${p.status}` }, p.status) },
  { label: 'Duration', num: true, cell: (p) => valueText('duration_ms', p.values.duration_ms) },
  { label: 'CPU time', num: true, cell: (p) => valueText('cpu_time_ms', p.values.cpu_time_ms) },
  { label: 'Failed tasks', num: true, cell: (p) => tonedText(p.failedTasksTone, valueText('failed_tasks', p.values.failed_tasks)) },
  { label: 'Shuffle read / write', num: true, cell: (p) => `${valueText('shuffle_read_bytes', p.values.shuffle_read_bytes)} / ${valueText('shuffle_write_bytes', p.values.shuffle_write_bytes)}` },
  { label: 'Spill (disk)', num: true, cell: (p) => h('span', { title: `${valueText('memory_spilled_bytes', p.values.memory_spilled_bytes)} as held in memory` }, valueText('disk_spilled_bytes', p.values.disk_spilled_bytes)) },
];

function runsTable(m: TrendModel): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'runs-h' }, h('h2', { id: 'runs-h' }, `Runs (${m.points.length})`), h('p', { class: 'hint' }, 'Newest first. Click a row, or press Enter on it, to open the run.'));
  const head = h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : undefined }, c.label)));
  const body = h('tbody');
  for (const p of [...m.points].reverse()) {
    const tr = h('tr', { class: 'run', tabindex: '0', 'data-app': p.app_id, title: `Open ${runText(p)}` }, ...COLUMNS.map((c) => h('td', { class: c.num ? 'num' : undefined }, c.cell(p))));
    tr.addEventListener('click', () => openRun(p));
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        openRun(p);
      }
    });
    body.append(tr);
  }
  section.append(h('div', { class: 'table-wrap' }, h('table', { class: 'runs' }, h('thead', {}, head), body)));
  return section;
}

/** Draws the whole page from the model; `focus` names the element to focus again (a metric card). */
function render(focus?: string): void {
  chart?.destroy();
  chart = undefined;
  if (!model) return;
  showPage(app, [header(model), cards(model), chartSection(model), runsTable(model)], focus);
}

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const m = e.data;
  if (!isHostMessage(m)) return; // only the host's protocol is read
  if (m.type === 'missing') {
    model = undefined;
    chart?.destroy();
    chart = undefined;
    app.replaceChildren(h('p', { class: 'note' }, m.message));
    return;
  }
  model = m.model;
  limit = m.limit;
  document.title = `Trend: ${model.appName}`;
  saveState();
  render();
});

followThemeAndSize(render, () => (chart ? [chart] : []));

vscode.postMessage({ type: 'ready' });
