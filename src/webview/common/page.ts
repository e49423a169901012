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
