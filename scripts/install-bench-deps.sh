#!/usr/bin/env bash
# Installs what `npm run bench` drives beyond the test programs: Debian's redis-server, for
# the BullMQ comparison of `npm run bench -- store`. CI runs no benchmark and does not call
# it. Needs root.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/install-test-deps.sh"
if dpkg-query -W -f='${Status}' redis-server 2>/dev/null | grep -q "install ok installed"; then
  echo "install-bench-deps: redis-server present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps: run as root or: sudo apt-get install redis-server" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server
