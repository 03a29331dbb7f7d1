#!/usr/bin/env bash
# Set up and run the whole test suite (unit, integration and headless-Chromium browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
# Browser tests drive Debian's Chromium; install it (and CJK fonts) when missing and we are allowed to.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
  else
    echo "chromium/chromium-driver/fonts-noto-cjk missing and cannot install them: browser tests will be skipped" >&2
  fi
fi
scripts/bootstrap.sh dev
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
