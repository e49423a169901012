/**
 * The Job page panel (issue 15): a webview that renders the view model the host computes
 * (model.ts). Strict CSP with a nonce, only the extension's own bundled script and style, messages
 * checked both ways (protocol.ts), and restored after a reload by the serializer in register.ts
 * from the state the page saves.
 */
import * as vscode from 'vscode';
import { WebviewPage } from '../webviewHtml';
import type { EventLogInfo, HostMessage, JobKey } from './protocol';
import { isPageMessage, type PageMessage } from './protocol';

export const VIEW_TYPE = 'sparkOptimizer.jobPage';

export const pageTitle = (name: string): string => `Job: ${name}`;

/** One open page: its panel and the job it shows (webviewHtml.ts WebviewPage does the rest). */
export class JobPagePanel extends WebviewPage<JobPagePanel, HostMessage, PageMessage> {
  /**
   * Where its event log is, found once: the page is drawn again on every database change (each
   * batch of a collection), and finding the log can list a source folder of thousands of files.
   */
  eventLog: EventLogInfo | undefined;

  constructor(
    panel: vscode.WebviewPanel,
    readonly key: JobKey,
    extensionUri: vscode.Uri,
    title: string,
    handlers: { load(page: JobPagePanel): Promise<void>; handle(page: JobPagePanel, message: Exclude<PageMessage, { type: 'ready' }>): Promise<void>; log: vscode.LogOutputChannel },
  ) {
    super(panel, extensionUri, { bundle: 'jobPage', title: pageTitle(title), what: 'Job page', isPageMessage }, handlers);
  }
}
