#!/usr/bin/env bash
# Prepare a fresh Debian 12 + Python 3.11 machine: Debian packages, then .venv with the project.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the real browser of tests/browser (driven by Playwright through executablePath;
# Playwright's own browser download does not work on our machines).
DEBIAN_PACKAGES=(xmlsec1 redis-server python3-venv chromium)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# redis-server's Debian service is not needed: tests start their own on free loopback ports.

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# axe-core for the accessibility tests: pinned, checked against its registry hash, cached in
# .cache/axe/ (no Node.js needed). Fetched only when the cache is missing or does not match.
.venv/bin/python -m idp.testbed.axe >/dev/null
