#!/usr/bin/env bash
# Make the test-time Python environment of tests/consumers.rs: a venv with
# the libraries that read fine-tuning corpora as their users load them
# (`datasets` for jsonl, sharegpt and parquet; `pyarrow` for parquet).
#
#   tests/consumer_venv.sh [VENV_DIR]     (default: target/consumer-venv)
#
# Prints the venv's python. Reinstalling is a no-op once installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/target/consumer-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import datasets, pyarrow" 2>/dev/null; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "datasets>=2.14" "pyarrow>=12" >&2
fi
echo "$venv/bin/python"
