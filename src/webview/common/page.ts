/// <reference lib="dom" />
/**
 * What every webview page of the extension does the same way (the Job page, the Trend): the VS Code
 * API, building elements without HTML strings, theme colours from --vscode-* variables, and redrawing
 * when the theme changes or charts resizing with the window. Browser code: bundled into each page.
 */
import type uPlot from 'uplot';

export interface VsCodeApi<Message, State> {
  postMessage(message: Message): void;
  getState(): unknown;
  setState(state: State): void;
}
declare function acquireVsCodeApi<Message, State>(): VsCodeApi<Message, State>;

/** The page's VS Code API, typed with its protocol (acquireVsCodeApi may be called once per page). */
export function vsCodeApi<Message, State>(): VsCodeApi<Message, State> {
  return acquireVsCodeApi<Message, State>();
}

/** Builds an element: h('td', { class: 'num' }, '12 s'). Text is always set as text, never as HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** A theme colour (or other CSS variable) as the page sees it now. */
export function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/**
 * Black or white, whichever reads better on `colour` (`#rgb`, `#rrggbb[aa]` or `rgb[a](…)`): by its
 * relative luminance (WCAG 2), black above 0.179, where both give the same contrast. A theme's chart
 * colours range from pale to deep, and the editor's background colour on them read at 3:1.
 */
export function inkOn(colour: string): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(colour.trim())?.[1];
  const rgb = hex
    ? (hex.length === 3 ? [...hex].map((c) => c + c) : [hex.slice(0, 2), hex.slice(2, 4), hex.slice(4, 6)]).map((x) => parseInt(x, 16))
    : /^rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)/i.exec(colour.trim())?.slice(1, 4).map(Number);
  if (!rgb) return '#000';
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 ? '#000' : '#fff';
}

/**
 * Theme changes swap the body's class (vscode-light / vscode-dark / vscode-high-contrast): `render`
 * draws again with the new colours. A window resize fits the page's charts to `.chart`'s width.
 */
export function followThemeAndSize(render: () => void, charts: () => readonly uPlot[]): void {
  new MutationObserver(() => render()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  let resizeTimer: number | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      const width = Math.max(300, document.querySelector('.chart')?.clientWidth ?? 600);
      for (const c of charts()) c.setSize({ width, height: c.height });
    }, 100);
  });
}

/** Puts the page's sections in `app` where the reader was (scroll kept), and focuses `focus` again (a sort button). */
export function showPage(app: HTMLElement, sections: readonly Node[], focus?: string): void {
  const scrollY = window.scrollY;
  app.replaceChildren(...sections);
  app.setAttribute('aria-busy', 'false');
  window.scrollTo(0, scrollY);
  if (focus) document.querySelector<HTMLElement>(focus)?.focus();
}
