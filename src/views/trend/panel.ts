/**
 * The Trend panel (issue 15): a webview that renders the view model the host computes (model.ts),
 * built as the Job page's (jobPage/panel.ts): strict CSP with a nonce, only the extension's own
 * bundled script and style, messages checked both ways (protocol.ts), and restored after a reload
 * by the serializer in register.ts from the state the page saves.
 */
import * as vscode from 'vscode';
import { WebviewPage } from '../webviewHtml';
import { isPageMessage, type HostMessage, type PageMessage } from './protocol';

export const VIEW_TYPE = 'sparkOptimizer.trend';

export const trendTitle = (appName: string): string => `Trend: ${appName}`;

/** One open trend: its panel and the application name it shows (webviewHtml.ts WebviewPage does the rest). */
export class TrendPanel extends WebviewPage<TrendPanel, HostMessage, PageMessage> {
  constructor(
    panel: vscode.WebviewPanel,
    readonly appName: string,
    extensionUri: vscode.Uri,
    handlers: { load(page: TrendPanel): Promise<void>; handle(page: TrendPanel, message: Exclude<PageMessage, { type: 'ready' }>): Promise<void>; log: vscode.LogOutputChannel },
  ) {
    super(panel, extensionUri, { bundle: 'trend', title: trendTitle(appName), what: 'Trend', isPageMessage }, handlers);
  }
}
