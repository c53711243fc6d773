#!/usr/bin/env bash
# Make the test-time Python environment of the oracle scripts
# (make_cases.py, compare_cases.py, prop_compare.py): a venv with the
# reference's pinned packages, its optional readers included.
#
#   tests/oracle/venv.sh [VENV_DIR]     (default: target/oracle-venv)
#
# Prints the venv's python. The reference is found at $SHEETSIFT_REFERENCE,
# default tests/oracle/reference (a copy of the documented workflow, its
# cell dump and its pinned requirements, kept in the repository so that a
# clean checkout can run the oracle; tests/oracle_prop.rs checks the copy
# against ../shared/reference wherever that exists).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
ref="${SHEETSIFT_REFERENCE:-$root/tests/oracle/reference}"
venv="${1:-$root/target/oracle-venv}"
if [ ! -f "$ref/requirements.txt" ]; then
    echo "no reference requirements at $ref/requirements.txt (set SHEETSIFT_REFERENCE)" >&2
    exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# Reinstalling is a no-op when the pins are already met.
"$venv/bin/python" -m pip install -q -r "$ref/requirements.txt" >&2
echo "$venv/bin/python"
