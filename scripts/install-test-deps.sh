#!/usr/bin/env bash
# Installs the Debian programs the interop tests drive: the reference gearmand and the real
# Gearman clients (gearman/gearadmin, PHP's pecl extension, Perl's Gearman::Client), plus
# libgearman-dev for the load generator of the TCP benchmark, and strace, which counts the
# SQLite store's fsyncs, and prometheus for promtool, which checks the dashboard's /metrics
# against the exposition format (the server it also carries is not started), and chromium,
# the browser the dashboard page is tested in (driven by playwright-core), and postgresql (15),
# the server the shared queue's tests start in temporary folders (test/support/postgres: its
# programs are in /usr/lib/postgresql/15/bin, off the PATH; contrib's modules are part of
# postgresql-15 since 10, so postgresql-contrib adds nothing). Needs root (CI runs as root).
set -euo pipefail
packages=(gearman-job-server gearman-tools php-cli php-gearman libgearman-client-perl libgearman-dev strace prometheus chromium postgresql)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all Debian packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-test-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
