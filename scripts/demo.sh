#!/usr/bin/env bash
# Set up (idempotent) and start the demo federation on 127.0.0.1 (Ctrl-C to stop).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ncconnect demo "$@"
