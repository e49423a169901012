/**
 * What every webview of the extension shares (the Job page, the Trend): where its bundles are, its
 * panel options, and its HTML shell with a strict Content-Security-Policy and a nonce.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** The webview bundles scripts/build.mjs builds into dist/webview (`<bundle>.js` and `.css`). */
export type WebviewBundle = 'jobPage' | 'trend' | 'jobsTable' | 'compare';

/** The built webview bundles (scripts/build.mjs). */
export function webviewRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [webviewRoot(extensionUri)] };
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A page's HTML: its bundle (`dist/webview/<bundle>.js` and `.css`) under a strict CSP with a nonce, nothing remote. */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, bundle: WebviewBundle, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const root = webviewRoot(extensionUri);
  const script = webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.css`));
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

/**
 * One open webview page: its panel set up (options, icon, HTML), the page's messages checked and
 * turned into calls (`load` on `ready`, `handle` for the rest), errors logged and shown, and one
 * dispose for all of it. `Self` is the subclass, so handlers get the page they were given.
 */
export class WebviewPage<Self, Host, Page extends { type: string }> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  private isDisposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    page: { bundle: WebviewBundle; title: string; what: string; isPageMessage: (m: unknown) => m is Page },
    handlers: { load(page: Self): Promise<void>; handle(page: Self, message: Exclude<Page, { type: 'ready' }>): Promise<void>; log: vscode.LogOutputChannel },
  ) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.title = page.title;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'spark.svg');
    panel.webview.html = webviewHtml(panel.webview, extensionUri, page.bundle, page.title);
    const self = this as unknown as Self;
    this.disposables.push(
      this.disposed,
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (!page.isPageMessage(m)) {
          handlers.log.warn(`${page.what}: ignored a message that is not in the protocol: ${JSON.stringify(m)?.slice(0, 200)}`);
          return;
        }
        const done = m.type === 'ready' ? handlers.load(self) : handlers.handle(self, m as Exclude<Page, { type: 'ready' }>);
        done.catch((err: unknown) => {
          handlers.log.error(`${page.what} (${m.type}): ${(err as Error).stack ?? String(err)}`);
          void vscode.window.showErrorMessage(`Spark Optimizer: ${(err as Error).message}`);
        });
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  post(message: Host): void {
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.disposed.fire();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
