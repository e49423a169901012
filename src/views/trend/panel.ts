/**
 * The Trend panel (issue 15): a webview that renders the view model the host computes (model.ts),
 * built as the Job page's (jobPage/panel.ts): strict CSP with a nonce, only the extension's own
 * bundled script and style, messages checked both ways (protocol.ts), and restored after a reload
 * by the serializer in register.ts from the state the page saves.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { webviewOptions, webviewRoot } from '../jobPage/panel';
import { isPageMessage, type HostMessage, type PageMessage } from './protocol';

export const VIEW_TYPE = 'sparkOptimizer.trend';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const trendTitle = (appName: string): string => `Trend: ${appName}`;

export function trendHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const root = webviewRoot(extensionUri);
  const script = webview.asWebviewUri(vscode.Uri.joinPath(root, 'trend.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(root, 'trend.css'));
  const csp = [`default-src 'none'`, `img-src ${webview.cspSource} data:`, `font-src ${webview.cspSource}`, `style-src ${webview.cspSource} 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}" nonce="${nonce}">
<title>${escapeHtml(title)}</title>
</head>
<body>
<main id="app" aria-busy="true"><p class="loading">Loading ${escapeHtml(title)}…</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}

/** One open trend: its panel, the application name it shows, and the page's messages turned into calls. */
export class TrendPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly appName: string,
    extensionUri: vscode.Uri,
    private readonly handlers: { load(page: TrendPanel): Promise<void>; handle(page: TrendPanel, message: Exclude<PageMessage, { type: 'ready' }>): Promise<void>; log: vscode.LogOutputChannel },
  ) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.title = trendTitle(appName);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'spark.svg');
    panel.webview.html = trendHtml(panel.webview, extensionUri, trendTitle(appName));
    this.disposables.push(
      this.disposed,
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (!isPageMessage(m)) {
          handlers.log.warn(`Trend: ignored a message that is not in the protocol: ${JSON.stringify(m)?.slice(0, 200)}`);
          return;
        }
        const done = m.type === 'ready' ? handlers.load(this) : handlers.handle(this, m);
        done.catch((err: unknown) => {
          handlers.log.error(`Trend (${m.type}): ${(err as Error).stack ?? String(err)}`);
          void vscode.window.showErrorMessage(`Spark Optimizer: ${(err as Error).message}`);
        });
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  post(message: HostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  private isDisposed = false;

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.disposed.fire();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
