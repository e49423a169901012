#!/usr/bin/env bash
# Installs what the end-to-end tests need to drive a real VS Code: Debian's chromium (the browser
# playwright-core drives) and code-server@4.100.3 (VS Code 1.100 served over HTTP) into
# <repo>/.tools/code-server. Follows /work/shared/REAL-VSCODE.md step by step; see there for why each
# unusual step exists (code-server's postinstall downloads ripgrep from the internet, which CI cannot
# reach; 4.100.x is the newest code-server that runs on Node 20).
#
# Idempotent: apt packages are installed only when missing, and code-server is skipped when the
# marker written after the last successful step is present and names the same version.
# Usage: bash scripts/e2e/setup.sh [--force]   (--force reinstalls code-server)
set -euo pipefail

CODE_SERVER_VERSION="4.100.3"
# zstd: the reference encoder and decoder that test/zstdWindow.test.ts checks 128 MiB-window frames against.
# postgresql: the server (15 on Debian 12, /usr/lib/postgresql/15/bin) test/support/postgres.ts starts throw-away clusters from.
APT_PACKAGES=(chromium ripgrep libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev zstd postgresql)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_DIR="$REPO_ROOT/.tools/code-server"
MARKER="$TOOLS_DIR/.installed"
START_SECONDS=$SECONDS
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

log() { printf '[e2e-setup %3ds] %s\n' "$((SECONDS - START_SECONDS))" "$*"; }
current_step="starting"
on_error() {
  local rc=$?
  printf '[e2e-setup] FAILED during: %s (exit %d). Re-run `bash scripts/e2e/setup.sh` (use --force to reinstall code-server).\n' \
    "$current_step" "$rc" >&2
  exit "$rc"
}
trap on_error ERR

# Two runs at once (two terminals, a CI retry) would delete each other's half-done install.
mkdir -p "$REPO_ROOT/.tools"
exec 9>"$REPO_ROOT/.tools/.e2e-setup.lock"
if ! flock -n 9; then
  log "another setup.sh is running; waiting for it"
  flock 9
fi

# Quiet npm: long logs drown CI output; errors still print.
export npm_config_loglevel=error npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# ---- apt: install only the packages that are missing -------------------------------------------
current_step="checking apt packages"
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "[e2e-setup] missing apt packages (${missing[*]}) and not root: install them with apt-get first." >&2
    exit 1
  fi
  current_step="apt-get update"
  log "apt-get update (missing: ${missing[*]})"
  apt-get update -qq
  current_step="apt-get install ${missing[*]}"
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages present"
fi
for bin in /usr/bin/chromium /usr/bin/rg; do
  [[ -x "$bin" ]] || { echo "[e2e-setup] $bin missing after apt install" >&2; exit 1; }
done

# node-gyp (npm rebuild below) downloads Node's headers unless told where they are; only the npm
# registry is reachable, so use the headers Debian's nodejs package installs.
if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node_version.h ]]; then
  export npm_config_nodedir=/usr
fi

# ---- code-server -------------------------------------------------------------------------------
if ((FORCE == 0)) && [[ -f "$MARKER" ]] && [[ "$(cat "$MARKER")" == "code-server@$CODE_SERVER_VERSION" ]]; then
  log "code-server@$CODE_SERVER_VERSION already installed in .tools/code-server"
  log "done in $((SECONDS - START_SECONDS))s"
  exit 0
fi

# A half-finished earlier run leaves an unknown state: start clean.
current_step="cleaning $TOOLS_DIR"
rm -rf "$TOOLS_DIR"
mkdir -p "$TOOLS_DIR"
cd "$TOOLS_DIR"
# An own package.json keeps npm from walking up to the repository's package.json.
printf '{ "name": "e2e-tools", "private": true }\n' > package.json

current_step="npm install code-server@$CODE_SERVER_VERSION"
log "$current_step (no scripts)"
npm install --ignore-scripts --no-audit --no-fund --no-save "code-server@$CODE_SERVER_VERSION" >/dev/null

VSCODE_DIR="$TOOLS_DIR/node_modules/code-server/lib/vscode"
cd "$VSCODE_DIR"
current_step="npm install in code-server/lib/vscode"
log "$current_step"
npm install --ignore-scripts --no-audit --no-fund >/dev/null

current_step="ripgrep from /usr/bin/rg"
mkdir -p node_modules/@vscode/ripgrep/bin
cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg

current_step="npm rebuild in code-server/lib/vscode (node-gyp: node-pty, spdlog, kerberos, ...)"
log "npm rebuild of native modules (the slow part)"
npm_config_yes=true npm rebuild >/dev/null

current_step="symlinks"
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)

current_step="npm install in code-server/lib/vscode/extensions"
log "$current_step"
(cd extensions && npm install --no-audit --no-fund >/dev/null)

cd "$TOOLS_DIR"
current_step="npm rebuild argon2"
log "$current_step"
npm_config_yes=true npm rebuild argon2 >/dev/null

current_step="checking the install"
ENTRY="$TOOLS_DIR/node_modules/code-server/out/node/entry.js"
[[ -f "$ENTRY" ]] || { echo "[e2e-setup] $ENTRY missing" >&2; exit 1; }
# A first run logs "Wrote default config file" before the version: point its config at a scratch dir.
check_home="$(mktemp -d)"
version_out="$(XDG_CONFIG_HOME="$check_home" XDG_DATA_HOME="$check_home" node "$ENTRY" --version 2>&1 | grep -m1 -E '^[0-9]+\.' || true)"
rm -rf "$check_home"
[[ "$version_out" == "$CODE_SERVER_VERSION"* ]] || {
  echo "[e2e-setup] code-server --version printed '$version_out', expected $CODE_SERVER_VERSION" >&2
  exit 1
}

printf 'code-server@%s' "$CODE_SERVER_VERSION" > "$MARKER"
log "code-server $version_out installed in .tools/code-server"
log "done in $((SECONDS - START_SECONDS))s"
