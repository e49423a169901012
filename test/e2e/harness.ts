/**
 * End-to-end harness: drives a real VS Code (code-server 4.100.3 = VS Code 1.100, installed by
 * `bash scripts/e2e/setup.sh` into `.tools/code-server`) through Debian's Chromium with
 * playwright-core, the way a user would: command palette, quick open, sidebar views, notifications,
 * Problems panel. See /work/shared/REAL-VSCODE.md (../shared/REAL-VSCODE.md in a clone) for why
 * code-server rather than @vscode/test-electron (its VS Code download is unreachable here).
 *
 * Every wait is on what the page shows (a selector, a text, an input's value). Where a loop polls,
 * it polls a condition, never sleeps a fixed time for the UI to "settle".
 *
 * Always `close()` a session in a `finally`: it kills code-server's whole process group. A watchdog
 * process between this process and code-server also kills it if this process dies without closing
 * (a vitest worker killed on timeout, Ctrl+C).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Frame, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe } from 'vitest';
import { describeSkipped } from '../support/skip';

/** The repository root: this file is `<root>/test/e2e/harness.ts`. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CODE_SERVER_DIR = path.join(REPO_ROOT, '.tools', 'code-server');
export const CODE_SERVER_ENTRY = path.join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
/** Written by scripts/e2e/setup.sh only after every install step succeeded. */
export const CODE_SERVER_MARKER = path.join(CODE_SERVER_DIR, '.installed');
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'e2e');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether the tools the e2e tests need are installed; `reason` says what is missing and how to fix it. */
export function e2eAvailable(): { ok: boolean; reason?: string } {
  const missing: string[] = [];
  if (!existsSync(CODE_SERVER_ENTRY) || !existsSync(CODE_SERVER_MARKER)) missing.push(`code-server in ${CODE_SERVER_DIR}`);
  if (!existsSync(CHROMIUM)) missing.push(CHROMIUM);
  if (missing.length === 0) return { ok: true };
  return { ok: false, reason: `missing ${missing.join(' and ')}: run \`bash scripts/e2e/setup.sh\` (needs root for apt-get)` };
}

/**
 * `describe` for tests that need code-server and Chromium. Without them: a loud skip on a
 * developer machine, a failure in CI (where `npm test` has run the setup script first). Sessions
 * are closed after the suite whatever happens.
 */
export function describeE2e(name: string, fn: () => void): void {
  const availability = e2eAvailable();
  if (!availability.ok && !process.env.CI) {
    describeSkipped(name, `SKIPPED ${name}: ${availability.reason ?? 'tools missing'}. Install with: bash scripts/e2e/setup.sh`);
    return;
  }
  describe(name, () => {
    beforeAll(() => {
      if (!availability.ok) throw new Error(`e2e tools missing in CI: ${availability.reason ?? ''} (npm test runs scripts/e2e/setup.sh first)`);
    });
    afterAll(closeAllSessions);
    fn();
  });
}

export interface StartOptions {
  /** An unpacked extension folder containing package.json (publisher, name, version) and its built `main`. */
  extensionDir: string;
  /** The folder VS Code opens. */
  workspace: string;
  /** Written to the user settings.json on top of the harness defaults. */
  settings?: Record<string, unknown>;
  /** Bound on server start + workbench load, default 90 s. */
  startTimeoutMs?: number;
}

export interface VsCodeSession {
  readonly page: Page;
  readonly browser: Browser;
  readonly port: number;
  /** The URL the browser opened (`http://127.0.0.1:<port>/?folder=<workspace>`). */
  readonly url: string;
  readonly workspace: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** From `page.goto` until `.monaco-workbench` was visible. */
  readonly workbenchLoadMs: number;
  /** Runs a command by its palette label ("Category: Title" as shown), via F1. */
  runCommand(title: string, timeoutMs?: number): Promise<void>;
  /** Opens a workspace file via Ctrl+P and waits for its editor tab to be active. */
  openFile(relPath: string, timeoutMs?: number): Promise<void>;
  /** Opens a view by its name via quick access `view <name>` (what "View: Open View" does). */
  openView(name: string, timeoutMs?: number): Promise<void>;
  /** Waits until a visible element shows the text (substring, case-insensitive) or matches the RegExp. */
  waitForText(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /**
   * Labels of the rendered rows of the tree view whose pane header is `viewTitle`, in display order
   * (opens and expands the view first). Waits up to `timeoutMs` for a first row or a welcome message;
   * returns [] if neither appears. Only rendered rows are read: fine for the short trees of a test.
   */
  treeItems(viewTitle: string, timeoutMs?: number): Promise<string[]>;
  /** Messages of all notifications not yet dismissed, read from the notification center (opened and closed again). */
  notifications(): Promise<string[]>;
  /** Opens the Problems panel (Ctrl+Shift+M) and returns the text of its rows: file rows and problem rows, in order. */
  problems(): Promise<string[]>;
  /**
   * The document of the webview whose `<title>` is `title` (string: exact; RegExp: a match), once
   * it is visible. VS Code nests a webview twice: the workbench's `iframe.webview` hosts VS Code's
   * own page (pre/index.html), which loads the extension's HTML into its `iframe#active-frame`.
   */
  webviewFrame(title: string | RegExp, timeoutMs?: number): Promise<Frame>;
  /** Saves a PNG of the page to test-results/e2e/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  /** code-server's output so far plus browser page errors (for failure messages). */
  serverLog(): string;
  /** Closes the browser, kills code-server's process group, removes the temp dirs. Safe to call twice. */
  close(): Promise<void>;
}

const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'window.restoreWindows': 'none',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'chat.commandCenter.enabled': false,
  'git.enabled': false,
};

/** Runs in its own process group between us and code-server: kills the group when our process goes away. */
const WATCHDOG_SOURCE = `
const { spawn } = require('node:child_process');
const parent = process.ppid;
const [cmd, ...args] = process.argv.slice(1);
const child = spawn(cmd, args, { stdio: 'inherit' });
const killGroup = () => { try { process.kill(-process.pid, 'SIGKILL'); } catch { process.exit(1); } };
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
// process.ppid is re-read on every access: it changes once our parent died and we were re-parented.
setInterval(() => { if (process.ppid !== parent) killGroup(); }, 500).unref();
process.on('SIGTERM', () => { child.kill('SIGTERM'); });
`;

const liveSessions = new Set<Session>();

const traceStart = Date.now();
/** `E2E_TRACE=1` prints each harness step with a timestamp: where an e2e test spends its time or hangs. */
function trace(message: string): void {
  if (process.env.E2E_TRACE) process.stderr.write(`[e2e ${((Date.now() - traceStart) / 1000).toFixed(1)}s] ${message}\n`);
}

/** Closes every session still open (for an `afterAll` safety net; `close()` in a `finally` is the main path). */
export async function closeAllSessions(): Promise<void> {
  await Promise.all([...liveSessions].map((s) => s.close()));
}

export async function startVsCode(opts: StartOptions): Promise<VsCodeSession> {
  if (!e2eAvailable().ok) throw new Error(`e2e tools unavailable: ${e2eAvailable().reason ?? ''}`);
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  const deadline = Date.now() + startTimeoutMs;
  const workspace = path.resolve(opts.workspace);
  const root = mkdtempSync(path.join(tmpdir(), 'vscode-e2e-'));
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  const xdgDir = path.join(root, 'xdg');
  for (const dir of [path.join(userDataDir, 'User'), extensionsDir, xdgDir]) mkdirSync(dir, { recursive: true });

  const manifest = readManifest(opts.extensionDir);
  // A symlink keeps big extension folders (node_modules) cheap; VS Code's scanner follows it.
  symlinkSync(path.resolve(opts.extensionDir), path.join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`), 'dir');
  writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...DEFAULT_SETTINGS, ...opts.settings }, null, 2),
  );

  const port = await freePort();
  const logFile = path.join(root, 'server.log');
  const session = new Session({ root, userDataDir, extensionsDir, workspace, port, logFile });
  liveSessions.add(session);
  try {
    session.spawnServer([
      CODE_SERVER_ENTRY,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--config', path.join(root, 'config.yaml'),
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      workspace,
    ], xdgDir);
    trace(`code-server spawned on port ${port}`);
    await session.waitForHttp(deadline);
    trace('code-server answers HTTP');
    await session.openBrowser(deadline, xdgDir);
    trace(`workbench visible after ${session.workbenchLoadMs} ms`);
    return session;
  } catch (err) {
    const log = session.serverLog();
    await session.close();
    throw new Error(`starting VS Code failed: ${errorMessage(err)}\n--- code-server output (tail) ---\n${tail(log, 40)}`);
  }
}

interface SessionPaths {
  root: string;
  userDataDir: string;
  extensionsDir: string;
  workspace: string;
  port: number;
  logFile: string;
}

class Session implements VsCodeSession {
  readonly port: number;
  readonly url: string;
  readonly workspace: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  workbenchLoadMs = 0;
  private readonly root: string;
  private readonly logFile: string;
  private log = '';
  private server: ChildProcess | undefined;
  private serverExit: Promise<void> = Promise.resolve();
  private browserInstance: Browser | undefined;
  private pageInstance: Page | undefined;
  private closed = false;

  constructor(p: SessionPaths) {
    this.root = p.root;
    this.userDataDir = p.userDataDir;
    this.extensionsDir = p.extensionsDir;
    this.workspace = p.workspace;
    this.port = p.port;
    this.logFile = p.logFile;
    this.url = `http://127.0.0.1:${p.port}/?folder=${encodeURIComponent(p.workspace)}`;
  }

  get page(): Page {
    if (!this.pageInstance) throw new Error('the browser page is not open');
    return this.pageInstance;
  }

  get browser(): Browser {
    if (!this.browserInstance) throw new Error('the browser is not open');
    return this.browserInstance;
  }

  spawnServer(args: string[], xdgDir: string): void {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      // Inside a VS Code / code-server terminal these make code-server hand the folder to that instance instead.
      if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') continue;
      env[k] = v;
    }
    // Keeps code-server's own config (~/.config/code-server) and state (~/.local/share/code-server) out of $HOME.
    env.XDG_CONFIG_HOME = path.join(xdgDir, 'config');
    env.XDG_DATA_HOME = path.join(xdgDir, 'data');
    env.XDG_CACHE_HOME = path.join(xdgDir, 'cache');
    const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, '--', process.execPath, ...args], {
      cwd: this.workspace,
      env,
      detached: true, // own process group, so close() can kill code-server and everything it started
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.server = child;
    const append = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      this.log += text;
      if (this.log.length > 200_000) this.log = this.log.slice(-100_000);
      appendFileSync(this.logFile, text);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.serverExit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.log += `\n[harness] code-server exited (code ${String(code)}, signal ${String(signal)})\n`;
        resolve();
      });
    });
  }

  async waitForHttp(deadline: number): Promise<void> {
    const url = `http://127.0.0.1:${this.port}/healthz`;
    let lastError = 'no answer yet';
    while (Date.now() < deadline) {
      const server = this.server;
      if (!server || server.exitCode !== null || server.signalCode !== null) throw new Error('code-server exited before answering HTTP');
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) return;
        lastError = `HTTP ${res.status}`;
      } catch (err) {
        lastError = errorMessage(err);
      }
      await delay(200); // polling interval for a condition, not a settle-time sleep
    }
    throw new Error(`code-server did not answer ${url} in time (${lastError})`);
  }

  async openBrowser(deadline: number, xdgDir: string): Promise<void> {
    this.browserInstance = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      // Chromium keeps crash reports and caches under XDG dirs ($HOME/.config/chromium): keep them in the session's temp dir.
      env: { ...process.env, XDG_CONFIG_HOME: path.join(xdgDir, 'config'), XDG_CACHE_HOME: path.join(xdgDir, 'cache') },
      timeout: Math.max(1_000, deadline - Date.now()),
    });
    const context = await this.browserInstance.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    this.pageInstance = page;
    page.on('pageerror', (err) => {
      this.log += `[browser pageerror] ${err.message}\n`;
    });
    const started = Date.now();
    await page.goto(this.url, { waitUntil: 'domcontentloaded', timeout: Math.max(1_000, deadline - Date.now()) });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: Math.max(1_000, deadline - Date.now()) });
    this.workbenchLoadMs = Date.now() - started;
    // The workbench's parts are created after the root element; the status bar is one of the last.
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: Math.max(1_000, deadline - Date.now()) });
  }

  serverLog(): string {
    return this.log;
  }

  // ---- quick input (command palette, quick open) -------------------------------------------

  private quickInput(): { widget: Locator; input: Locator; rows: Locator } {
    const widget = this.page.locator('.quick-input-widget');
    return {
      widget,
      input: widget.locator('.quick-input-box input'),
      rows: widget.locator('.quick-input-list .monaco-list-row'),
    };
  }

  /**
   * Opens the quick input with `key`, types `value`, waits for a row whose label is `label` (and whose
   * text contains `alsoContains`, if given) and accepts it: Enter when it is the focused row,
   * a click otherwise. Retries the key press while the workbench has not bound its keys yet.
   */
  private async pick(key: string, value: string, label: string, timeoutMs: number, alsoContains?: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    trace(`pick "${value}" via ${key}`);
    const { widget, input, rows } = this.quickInput();
    if (await widget.isVisible()) {
      await this.page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: remaining(deadline) });
    }
    // Right after load the keybinding service may not be listening yet: press again until the widget shows.
    const open = async (): Promise<void> => {
      for (;;) {
        await this.page.keyboard.press(key);
        try {
          await input.waitFor({ state: 'visible', timeout: Math.min(3_000, remaining(deadline)) });
          return;
        } catch (err) {
          if (Date.now() >= deadline) throw new Error(`the quick input did not open on ${key}: ${errorMessage(err)}`);
        }
      }
    };
    await open();
    let match = rows.filter({ has: this.page.locator('.label-name', { hasText: exactText(label) }) });
    if (alsoContains) match = match.filter({ hasText: alsoContains });
    // Some quick access providers (views, ...) compute their rows once per value: an item registered
    // after typing (a view of an extension still being registered) never shows: retype until it does.
    for (let wait = 1_000; ; wait = Math.min(wait * 2, 4_000)) {
      try {
        await input.fill(value, { timeout: Math.min(wait, remaining(deadline)) });
        await match.first().waitFor({ state: 'visible', timeout: Math.min(wait, remaining(deadline)) });
        trace(`row "${label}" shown`);
        break;
      } catch (err) {
        if (Date.now() >= deadline) {
          const shown = await rows.allInnerTexts().catch(() => []);
          throw new Error(`no row "${label}" for "${value}" (rows: ${JSON.stringify(shown.map(oneLine))}): ${errorMessage(err)}`);
        }
        // A webview taking the focus back (the active editor, just after another picker closed) closes
        // the quick input (CI, stop 24: fill() then waited 30 s for an input that was gone): open it again.
        if (!(await input.isVisible())) {
          trace('the quick input closed; opening it again');
          await open();
        } else await input.fill('', { timeout: Math.min(wait, remaining(deadline)) }).catch(() => undefined);
      }
    }
    const focusedMatch = match.and(this.page.locator('.focused'));
    if ((await focusedMatch.count()) > 0) await input.press('Enter');
    else await match.first().click({ timeout: remaining(deadline) });
    // Done when the widget hid, or when it was reused by a follow-up picker (its value changed).
    await pollUntil(async () => !(await widget.isVisible()) || (await input.inputValue().catch(() => '')) !== value, deadline, `quick input to accept "${label}"`);
  }

  async runCommand(title: string, timeoutMs = 30_000): Promise<void> {
    await this.pick('F1', `>${title}`, title, timeoutMs);
  }

  async openFile(relPath: string, timeoutMs = 30_000): Promise<void> {
    const base = path.basename(relPath);
    const dir = path.dirname(relPath);
    const deadline = Date.now() + timeoutMs;
    // Quick open's file results come from a ripgrep search and arrive after the editor history rows.
    await this.pick('Control+P', relPath, base, timeoutMs, dir === '.' ? undefined : dir);
    await this.page
      .locator('.part.editor .tab.active')
      .filter({ has: this.page.locator('.label-name', { hasText: exactText(base) }) })
      .first()
      .waitFor({ state: 'visible', timeout: remaining(deadline) });
  }

  async openView(name: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.pick('F1', `view ${name}`, name, timeoutMs);
    await this.viewRoot(name).first().waitFor({ state: 'visible', timeout: remaining(deadline) });
  }

  /** The pane of a view by its header title, or the whole part when the view is alone in its container. */
  private viewRoot(name: string): Locator {
    const page = this.page;
    const pane = page.locator('.pane').filter({ has: page.locator('.pane-header .title', { hasText: exactText(name) }) });
    const soleView = page
      .locator('.part.sidebar, .part.panel, .part.auxiliarybar')
      .filter({ has: page.locator('.composite.title .title-label, .composite.title .action-label.checked', { hasText: exactText(name) }) });
    return pane.or(soleView);
  }

  async waitForText(text: string | RegExp, timeoutMs = 30_000): Promise<void> {
    await this.page.getByText(text).filter({ visible: true }).first().waitFor({ state: 'visible', timeout: timeoutMs });
  }

  async treeItems(viewTitle: string, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let root = this.viewRoot(viewTitle).first();
    if (!(await root.isVisible())) {
      await this.openView(viewTitle, remaining(deadline));
      root = this.viewRoot(viewTitle).first();
    }
    const header = root.locator('.pane-header').first();
    if ((await header.count()) > 0 && (await header.getAttribute('aria-expanded')) === 'false') {
      await header.click();
      await pollUntil(async () => (await header.getAttribute('aria-expanded')) === 'true', deadline, `view "${viewTitle}" to expand`);
    }
    trace(`view "${viewTitle}" visible and expanded`);
    const rows = root.locator('.monaco-list-row');
    const welcome = root.locator('.welcome-view-content');
    try {
      await rows.or(welcome).first().waitFor({ state: 'visible', timeout: remaining(deadline) });
    } catch {
      return []; // an empty tree without a welcome message shows nothing to wait for
    }
    return readRows(rows, async (row) => {
      const name = row.locator('.label-name').first();
      if ((await name.count()) > 0) return oneLine(await name.innerText());
      return oneLine((await row.getAttribute('aria-label')) ?? (await row.innerText()));
    });
  }

  async notifications(): Promise<string[]> {
    const page = this.page;
    const center = page.locator('.notifications-center');
    const wasOpen = await center.isVisible();
    if (!wasOpen) {
      await this.runCommand('Notifications: Show Notifications');
      await center.waitFor({ state: 'visible', timeout: 10_000 });
    }
    const rows = center.locator('.monaco-list-row');
    const messages = await readRows(rows, async (row) => oneLine(await row.locator('.notification-list-item-message').first().innerText()));
    if (!wasOpen) {
      await this.runCommand('Notifications: Hide Notifications');
      await center.waitFor({ state: 'hidden', timeout: 10_000 });
    }
    return messages;
  }

  async problems(): Promise<string[]> {
    const page = this.page;
    const panel = page.locator('.markers-panel');
    if (!(await panel.isVisible())) {
      // Ctrl+Shift+M toggles: press it only when the panel is not already shown.
      await page.keyboard.press('Control+Shift+M');
      await panel.waitFor({ state: 'visible', timeout: 15_000 });
    }
    const rows = panel.locator('.monaco-list-row');
    const empty = panel.locator('.message-box-container', { hasText: /No problems/i });
    await rows.or(empty).first().waitFor({ state: 'visible', timeout: 15_000 });
    return readRows(rows, async (row) => oneLine(await row.innerText()));
  }

  async webviewFrame(title: string | RegExp, timeoutMs = 30_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    const wanted = (t: string): boolean => (typeof title === 'string' ? t === title : title.test(t));
    let found: Frame | undefined;
    await pollUntil(
      async () => {
        for (const frame of this.page.frames()) {
          // A frame can go away while it is looked at (a window reload, a webview disposed): that frame
          // is not the one, and the next poll sees the frames as they are then.
          const match = await this.isWebviewTitled(frame, wanted).catch(() => false);
          if (match) {
            found = frame;
            return true;
          }
        }
        return false;
      },
      deadline,
      `a webview titled ${String(title)}`,
    );
    trace(`webview ${String(title)} found`);
    return found!;
  }

  /** Whether `frame` is the inner frame of a visible webview whose document title is wanted. */
  private async isWebviewTitled(frame: Frame, wanted: (title: string) => boolean): Promise<boolean> {
    const host = frame.parentFrame();
    // Only the inner frame: Playwright keeps the id it had when attached ("pending-frame", renamed
    // "active-frame" once loaded), so the nesting is checked, not the name.
    if (!host || host.parentFrame() !== this.page.mainFrame()) return false;
    const outer = await host.frameElement();
    if (!((await outer.getAttribute('class')) ?? '').split(/\s+/).includes('webview')) return false;
    if (!(await outer.isVisible())) return false; // a hidden editor's webview
    return wanted(await frame.title());
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
    await this.page.screenshot({ path: file, timeout: 15_000 });
    return file;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    liveSessions.delete(this);
    try {
      if (this.browserInstance) await withTimeout(this.browserInstance.close(), 10_000).catch(() => undefined);
    } finally {
      await this.killServer();
      try {
        rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // a busy temp dir is not worth failing a test for
      }
    }
  }

  private async killServer(): Promise<void> {
    const pid = this.server?.pid;
    if (pid === undefined) return;
    // Anything code-server started in a new session/group of its own is found through /proc.
    const all = [pid, ...descendants(pid)];
    signalGroup(pid, 'SIGTERM');
    for (const p of all) signal(p, 'SIGTERM');
    const graceEnd = Date.now() + 5_000;
    while (Date.now() < graceEnd && (groupAlive(pid) || all.some(alive))) await delay(100);
    signalGroup(pid, 'SIGKILL');
    for (const p of all) signal(p, 'SIGKILL');
    await withTimeout(this.serverExit, 5_000).catch(() => undefined);
  }
}

// ---- helpers ------------------------------------------------------------------------------------

interface Manifest {
  publisher: string;
  name: string;
  version: string;
}

function readManifest(extensionDir: string): Manifest {
  const file = path.join(extensionDir, 'package.json');
  const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof json !== 'object' || json === null) throw new Error(`${file}: not a JSON object`);
  const record = json as Record<string, unknown>;
  const field = (key: string): string => {
    const value = record[key];
    if (typeof value !== 'string' || value === '') throw new Error(`${file}: "${key}" must be a non-empty string`);
    return value;
  };
  return { publisher: field('publisher'), name: field('name'), version: field('version') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Reads rows of a monaco list in display order: the DOM keeps rendered rows in any order, `data-index` is their position. */
async function readRows(rows: Locator, read: (row: Locator) => Promise<string>): Promise<string[]> {
  const out: { index: number; text: string }[] = [];
  const count = await rows.count();
  for (let i = 0; i < count; i++) {
    const row = rows.nth(i);
    const index = Number((await row.getAttribute('data-index')) ?? i);
    out.push({ index, text: await read(row) });
  }
  return out.sort((a, b) => a.index - b.index).map((r) => r.text);
}

function exactText(text: string): RegExp {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'i');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

async function pollUntil(check: () => Promise<boolean>, deadline: number, what: string): Promise<void> {
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100); // polling interval for a condition, not a settle-time sleep
  }
}

function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] ?? err.message : String(err);
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  signal(-pgid, sig);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch {
    return false;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** All live descendants of `pid`, from /proc (Linux). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop();
    if (next === undefined) break;
    for (const child of children.get(next) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}
