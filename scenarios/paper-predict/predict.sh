#!/usr/bin/env bash
# Prints the prediction table (needs a release build: cargo build --release).
set -euo pipefail
exec python3 "$(dirname "$0")/predict.py" "$@"
