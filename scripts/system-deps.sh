#!/bin/sh
# Installs the Debian packages the test suite needs, where they are missing:
#   postgresql  a real server for the PostgreSQL run (the tests start their own cluster)
#   chromium    the browser the site's browser tests drive (Playwright uses it; it downloads none)
# With the argument `bench`, also what the benchmarks need:
#   wrk         the HTTP load generator of bench/web.py
# Uses sudo when not root. Does nothing when everything is there already.
set -eu

missing=""
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  missing="$missing postgresql"
fi
command -v runuser >/dev/null 2>&1 || missing="$missing util-linux"
if [ ! -x /usr/bin/chromium ]; then
  # DejaVu gives the screenshots in test-artifacts/ readable text.
  missing="$missing chromium fonts-dejavu-core"
fi
if [ "${1:-}" = "bench" ] && ! command -v wrk >/dev/null 2>&1; then
  missing="$missing wrk"
fi

if [ -z "$missing" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "Need root to install:$missing (apt-get install$missing)" >&2
  exit 1
fi

echo "Installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
