#!/usr/bin/env bash
# Runs a command on a given Node.js: `scripts/on-node.sh 24 npm test`, or `system` for the
# machine's own. Node 24 (the current LTS) is unpacked into .tools/node-24 from the npm
# registry's node-linux-<arch> package, which is what the `node` package installs (its
# preinstall script fetches it) and which carries Node's headers in include/node; nothing
# is downloaded from anywhere else. The SQLite binding better-sqlite3 12 (what Node 20 loads)
# is a native module built for one ABI: it is built once per Node version, against that
# version's headers (node-gyp's --nodedir), kept in .tools/addons, and put in place before
# the command runs. Node 22 and newer load better-sqlite3 13 instead (store-sqlite's
# binding.ts), installed by an `npm ci` on that Node when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE24_VERSION="24.21.0" # the newest 24.x of the registry's `node` package

which="${1:?usage: scripts/on-node.sh system|24 COMMAND...}"
shift

system_node="$(command -v node)"
case "$which" in
  system)
    bin="$(dirname "$system_node")"
    nodedir="" # npm's own setting (the machine's headers)
    ;;
  24)
    dir="$PWD/.tools/node-24"
    if [ ! -x "$dir/bin/node" ] || [ "$("$dir/bin/node" --version)" != "v$NODE24_VERSION" ]; then
      case "$(uname -m)" in
        x86_64) arch=x64 ;;
        aarch64) arch=arm64 ;;
        *) echo "on-node: no Node 24 package for $(uname -m)" >&2; exit 1 ;;
      esac
      echo "on-node: unpacking node-linux-$arch@$NODE24_VERSION into $dir" >&2
      tmp="$(mktemp -d)"
      (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE24_VERSION" >/dev/null)
      rm -rf "$dir"
      mkdir -p "$dir"
      tar xzf "$tmp"/*.tgz -C "$dir" --strip-components=1
      rm -rf "$tmp"
    fi
    bin="$dir/bin"
    nodedir="$dir"
    ;;
  *)
    echo "on-node: '$which' is not system or 24" >&2
    exit 2
    ;;
esac

# The binding for this Node's ABI, built once and kept.
addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
kept_for() { echo ".tools/addons/better-sqlite3-abi$("$1" -p process.versions.modules).node"; }
loads_in() { [ -f "$addon" ] && "$1" -e "require('./$addon')" 2>/dev/null; }
# Keeps the binding in place under the ABI it was built for (npm ci builds it for the
# machine's Node), before another one replaces it.
keep_in_place() {
  local kept
  kept="$(kept_for "$1")"
  if [ ! -f "$kept" ] && loads_in "$1"; then
    mkdir -p .tools/addons
    cp "$addon" "$kept"
  fi
}
# On Node 22 and newer the store loads better-sqlite3 13 (a Node-API build, one for every
# version), an optional dependency npm installs only where its engines allow: an install made
# by Node 20 lacks it, so one is made by this Node (the builds made before are kept first).
major="$("$bin/node" -p "process.versions.node.split('.')[0]")"
if [ "$major" -ge 22 ] && [ -d node_modules/better-sqlite3 ] && [ ! -d node_modules/better-sqlite3-13 ]; then
  keep_in_place "$system_node"
  echo "on-node: npm ci on Node $("$bin/node" --version), which installs better-sqlite3 13" >&2
  PATH="$bin:$PATH" npm_config_nodedir="$nodedir" npm ci --no-audit --no-fund >&2
fi
if [ -d node_modules/better-sqlite3 ]; then
  keep_in_place "$system_node"
  if [ -x .tools/node-24/bin/node ]; then keep_in_place .tools/node-24/bin/node; fi
  kept="$(kept_for "$bin/node")"
  if [ ! -f "$kept" ]; then
    echo "on-node: building better-sqlite3 for Node $("$bin/node" --version)" >&2
    if [ -n "$nodedir" ]; then
      PATH="$bin:$PATH" npm_config_nodedir="$nodedir" npm rebuild better-sqlite3 >&2
    else
      PATH="$bin:$PATH" npm rebuild better-sqlite3 >&2
    fi
    loads_in "$bin/node" || { echo "on-node: the rebuilt binding does not load" >&2; exit 1; }
    mkdir -p .tools/addons
    cp "$addon" "$kept"
  elif ! cmp -s "$kept" "$addon"; then
    cp "$kept" "$addon"
  fi
fi

PATH="$bin:$PATH" exec "$@"
