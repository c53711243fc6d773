#!/usr/bin/env bash
# The pip route, for real: build the wheel with maturin (pyproject.toml,
# `bindings = "bin"`), install it into a fresh venv, and run the README's
# main job with the `sheetsift` that venv puts on PATH; its corpus must be
# byte-identical to the cargo-built binary's.
#
#   bash tests/engine/wheel.sh        # PYTHON=python3, SHEETSIFT=path/to/binary
#                                     # (default target/release/sheetsift)
#
# maturin builds with cargo into this repository's target dir (or
# CARGO_TARGET_DIR), release profile, no extra flags: after `cargo build
# --release` or `cargo test --release` nothing is compiled again.
#
# Skips (exit 0, loudly) only where maturin cannot be installed from PyPI or
# Python has no venv module; SHEETSIFT_REQUIRE_ENGINES=1 turns that skip into
# a failure. Every other problem fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SHEETSIFT:-$repo/target/release/sheetsift}
python=${PYTHON:-python3}
t0=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}'; }
say() { echo "wheel.sh [$(elapsed)s] $*"; }
die() { echo "wheel.sh: FAILED: $*" >&2; exit 1; }
skip() {
  echo "################################################################" >&2
  echo "# wheel.sh: SKIPPED: $*" >&2
  echo "# The pip-installed sheetsift was NOT tested." >&2
  echo "################################################################" >&2
  [ "${SHEETSIFT_REQUIRE_ENGINES:-0}" = 1 ] && die "skip refused (SHEETSIFT_REQUIRE_ENGINES=1)"
  exit 0
}

[ -x "$bin" ] || die "no sheetsift binary at $bin (cargo build --release, or set SHEETSIFT)"
bin=$(realpath "$bin")
work=$(mktemp -d "${TMPDIR:-/tmp}/sheetsift-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- 1. maturin, in a venv of its own ----------------------------------------
"$python" -m venv "$work/build-venv" 2> "$work/venv.log" \
  || { cat "$work/venv.log" >&2; skip "$python -m venv failed (no venv module?)"; }
"$work/build-venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.5,<2" \
  > "$work/pip.log" 2>&1 || { tail -20 "$work/pip.log" >&2; skip "pip could not install maturin"; }
say "$("$work/build-venv/bin/maturin" --version)"

# --- 2. the wheel -------------------------------------------------------------
(cd "$repo" && "$work/build-venv/bin/maturin" build --release --out "$work/dist") \
  > "$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; die "maturin build failed"; }
wheels=("$work"/dist/sheetsift-*.whl)
[ "${#wheels[@]}" = 1 ] && [ -f "${wheels[0]}" ] || die "expected one wheel in dist/, got: ${wheels[*]}"
wheel=${wheels[0]}
grep -E '^ *(Compiling|Finished)' "$work/build.log" | tail -3 | sed 's/^ */  cargo: /'
say "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
members=$("$python" -m zipfile -l "$wheel")
grep -q 'sheetsift-[^/]*\.data/scripts/sheetsift ' <<< "$members" \
  || die "the wheel holds no scripts/sheetsift: $members"

# --- 3. a fresh venv with only the wheel, used as a person would -------------
# (Without a pip of its own, installed by the build venv's pip with
# --python: the venv is as fresh, and ensurepip's half a minute on a busy
# machine is saved.)
"$python" -m venv --without-pip "$work/venv"
"$work/build-venv/bin/pip" --python "$work/venv/bin/python" install -q \
  --disable-pip-version-check --no-index "$wheel" || die "pip install of $wheel failed"
# shellcheck disable=SC1091
. "$work/venv/bin/activate"
[ "$(command -v sheetsift)" = "$work/venv/bin/sheetsift" ] \
  || die "sheetsift on PATH is $(command -v sheetsift), not the venv's"
version=$(sheetsift --version)
[ "$version" = "$("$bin" --version)" ] || die "venv's '$version' is not the cargo build's '$("$bin" --version)'"
say "installed into a fresh venv: $version"

# The README's main job, as the README writes it, from a copy of samples/.
mkdir "$work/job" "$work/cargo"
cp -r "$repo/samples" "$work/job/samples"
cp -r "$repo/samples" "$work/cargo/samples"
(cd "$work/job" && sheetsift run samples/ -o out/ --val-size 0.1 -q) \
  || die "sheetsift run from the venv failed"
deactivate
(cd "$work/cargo" && "$bin" run samples/ -o out/ --val-size 0.1 -q)
for f in std/train.txt std/val.txt mmi/train.txt mmi/val.txt; do
  [ -s "$work/job/out/$f" ] || die "the venv's run wrote no (or an empty) out/$f"
  cmp "$work/job/out/$f" "$work/cargo/out/$f" || die "out/$f differs from the cargo-built binary's"
done
[ "$(cd "$work/job/out" && find . -type f | sort)" = "$(cd "$work/cargo/out" && find . -type f | sort)" ] \
  || die "the venv's run and the cargo build's wrote different files"
say "PASSED: the wheel's sheetsift wrote out/{std,mmi}/{train,val}.txt, identical to the cargo build's (total $(elapsed)s)"
