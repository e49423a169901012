/**
 * The Compare panel (issue 15): a webview that renders the view model the host computes
 * (model.ts), built as the Job page's and the Trend's (webviewHtml.ts WebviewPage: strict CSP with
 * a nonce, only the extension's own bundled script and style, messages checked both ways by
 * protocol.ts), restored after a reload by the serializer in register.ts from the keys the page saves.
 */
import * as vscode from 'vscode';
import type { JobKey } from '../jobPage/protocol';
import { WebviewPage } from '../webviewHtml';
import { isPageMessage, type HostMessage, type PageMessage } from './protocol';

export const VIEW_TYPE = 'sparkOptimizer.compare';

/** One open comparison: its panel and the two runs, A (the baseline) and B. */
export class ComparePanel extends WebviewPage<ComparePanel, HostMessage, PageMessage> {
  constructor(
    panel: vscode.WebviewPanel,
    public a: JobKey,
    public b: JobKey,
    extensionUri: vscode.Uri,
    title: string,
    handlers: { load(page: ComparePanel): Promise<void>; handle(page: ComparePanel, message: Exclude<PageMessage, { type: 'ready' }>): Promise<void>; log: vscode.LogOutputChannel },
  ) {
    super(panel, extensionUri, { bundle: 'compare', title, what: 'Compare', isPageMessage }, handlers);
  }
}
